"""Auth function: accounts, sign-in, rotating refresh tokens, and the public signing keys.

Routes (all under /api/v1): POST auth/register, auth/login, auth/refresh, auth/logout,
auth/logout-all, auth/password; GET auth/me; GET .well-known/jwks.json. Credential-handling routes
pass the per-IP limit first; it fails closed (503) when Redis is unreachable.
"""

from __future__ import annotations

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Request, Response
from mangum import Mangum

from shared.clients import db
from shared.core.encoding import json_bytes
from shared.http.app import api_router, create_app
from shared.http.auth import ClientIp, CurrentUser
from shared.http.openapi import documented
from shared.http.responses import TOKEN_HEADERS, no_content, no_store_json, respond
from shared.identity import accounts, keys, sessions
from shared.models.accounts import (
    LoginCreate,
    PasswordUpdate,
    RefreshCreate,
    RegisteredPublic,
    SignedInPublic,
    TokenPublic,
    UserCreate,
)
from shared.models.profiles import ProfilePublic

JWKS_CACHING = "public, max-age=300"
router = api_router("/auth", tags=["auth"])
jwks_router = api_router("/.well-known", tags=["auth"])


@router.post("/register", status_code=201, response_model=RegisteredPublic, **documented("auth.register", 409))
async def register(body: UserCreate, _: ClientIp) -> Response:
    return no_store_json(accounts.register(body), status=201, headers=TOKEN_HEADERS)


@router.post("/login", response_model=SignedInPublic, **documented("auth.login", 401))
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


app = create_app(router, jwks_router)
handler = Mangum(app, lifespan="off")
