"""Auth function: accounts, sign-in, rotating refresh tokens, and the public signing keys.

Routes (all under /api/v1): POST auth/register, auth/login, auth/refresh, auth/logout,
auth/logout-all, auth/password; GET auth/me; GET .well-known/jwks.json. Sign-in with Google, Discord,
Facebook (issue 16): GET auth/oauth/{provider}/start, POST auth/oauth/{provider}/callback,
POST auth/oauth/signup; GET me/identities, DELETE me/identities/{identity_id}. Credential-handling
routes pass the per-IP limit first; it fails closed (503) when Redis is unreachable.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Path, Query, Request, Response
from mangum import Mangum

from shared.clients import db
from shared.core.encoding import json_bytes
from shared.http.app import api_router, create_app
from shared.http.auth import ClientIp, CurrentUser, OptionalUser
from shared.http.openapi import documented
from shared.http.responses import TOKEN_HEADERS, no_content, no_store_json, respond
from shared.identity import accounts, identities, keys, sessions
from shared.models.accounts import (
    LoginCreate,
    PasswordUpdate,
    RefreshCreate,
    RegisteredPublic,
    SignedInPublic,
    TokenPublic,
    UserCreate,
)
from shared.models.oauth import (
    IdentityListPublic,
    OAuthCallbackCreate,
    OAuthResultPublic,
    OAuthSignupCreate,
    OAuthStartPublic,
)
from shared.models.profiles import ProfilePublic

JWKS_CACHING = "public, max-age=300"
router = api_router("/auth", tags=["auth"])
jwks_router = api_router("/.well-known", tags=["auth"])
identities_router = api_router("/me/identities", tags=["auth"])
Provider = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


@router.post("/register", status_code=201, response_model=RegisteredPublic, **documented("auth.register", 409))
async def register(body: UserCreate, _: ClientIp) -> Response:
    return no_store_json(accounts.register(body), status=201, headers=TOKEN_HEADERS)


@router.post("/login", response_model=SignedInPublic, **documented("auth.login", 401, 409))
async def login(body: LoginCreate, ip: ClientIp) -> Response:
    return no_store_json(accounts.login(body, ip), headers=TOKEN_HEADERS)


@router.post("/refresh", response_model=TokenPublic, **documented("auth.refresh", 401))
async def refresh(body: RefreshCreate, _: ClientIp) -> Response:
    return no_store_json(db.run(lambda conn: sessions.refresh(conn, body.refresh_token)), headers=TOKEN_HEADERS)


@router.post("/logout", status_code=204, response_class=Response, **documented("auth.logout"))
async def logout(body: RefreshCreate, _: ClientIp) -> Response:
    """This device: revoke the sign-in (family) of the given refresh token."""
    db.run(lambda conn: sessions.end(conn, body.refresh_token))
    return no_content()


@router.post("/logout-all", status_code=204, response_class=Response, **documented("auth.logoutAll"))
async def logout_all(user_id: CurrentUser, _: ClientIp) -> Response:
    """Every device: revoke all of the caller's sign-ins."""
    db.run(lambda conn: sessions.end_all(conn, user_id))
    return no_content()


@router.post("/password", response_model=TokenPublic, **documented("auth.changePassword", 403, 409))
async def change_password(body: PasswordUpdate, user_id: CurrentUser, ip: ClientIp) -> Response:
    return no_store_json(accounts.change_password(user_id, body, ip), headers=TOKEN_HEADERS)


@router.get("/me", response_model=ProfilePublic, **documented("auth.me"))
async def me(user_id: CurrentUser) -> Response:
    return no_store_json(accounts.me(user_id))


@jwks_router.get("/jwks.json", **documented("auth.jwks", conditional=True))
async def jwks(request: Request) -> Response:
    """The public signing keys. Cacheable for 5 minutes: a new key is published well before it signs."""
    return respond(request, json_bytes(keys.jwks()), cache_control=JWKS_CACHING)


@router.get("/oauth/{provider}/start", response_model=OAuthStartPublic, **documented("auth.oauthStart", 401, 404))
async def oauth_start(provider: Provider, caller: OptionalUser, _: ClientIp,
                      redirect_uri: Annotated[str | None, Query(max_length=2048)] = None) -> Response:
    """The provider's authorize URL (state, PKCE S256, nonce kept server-side). With a bearer token the
    flow links the provider to the caller's account instead of signing in."""
    return no_store_json(identities.start(provider, redirect_uri, caller))


@router.post("/oauth/{provider}/callback", response_model=OAuthResultPublic,
             **documented("auth.oauthCallback", 401, 403, 404, 409))
async def oauth_callback(provider: Provider, body: OAuthCallbackCreate, caller: OptionalUser, ip: ClientIp) -> Response:
    """Post the ``code`` and ``state`` the provider redirected with: a token pair and the user (or, when
    linking, the new identity)."""
    return no_store_json(identities.callback(provider, body, caller, ip), headers=TOKEN_HEADERS)


@router.post("/oauth/signup", response_model=OAuthResultPublic, **documented("auth.oauthSignup", 409))
async def oauth_signup(body: OAuthSignupCreate, _: ClientIp) -> Response:
    """Finish a first sign-in whose provider username was taken or invalid, with a chosen username."""
    return no_store_json(identities.complete_signup(body), headers=TOKEN_HEADERS)


@identities_router.get("", response_model=IdentityListPublic, **documented("identities.list"))
async def list_identities(user_id: CurrentUser) -> Response:
    return no_store_json(identities.list_identities(user_id))


@identities_router.delete("/{identity_id}", status_code=204, response_class=Response,
                          **documented("identities.delete", 404, 409))
async def unlink_identity(identity_id: uuid.UUID, user_id: CurrentUser, _: ClientIp) -> Response:
    """Unlink a provider; 409 when it is the account's last way to sign in."""
    identities.unlink(user_id, identity_id)
    return no_content()


app = create_app(router, jwks_router, identities_router)
handler = Mangum(app, lifespan="off")
