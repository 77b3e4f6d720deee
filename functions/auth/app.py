"""Auth function: accounts, sign-in, rotating refresh tokens, and the public signing keys.

Routes (all under /api/v1): POST auth/register, auth/login, auth/refresh, auth/logout,
auth/logout-all, auth/password; GET auth/me; GET .well-known/jwks.json. Credential-handling routes
pass the per-IP limit first; it fails closed (503) when Redis is unreachable.
"""

from __future__ import annotations

from typing import Annotated

import shared.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Depends, Request, Response
from mangum import Mangum

from shared import accounts, db, keys, sessions
from shared.account_schemas import (
    LoginCreate,
    PasswordUpdate,
    ProfilePublic,
    RefreshCreate,
    RegisteredPublic,
    TokenPublic,
    UserCreate,
)
from shared.api import api_router, create_app
from shared.auth import CurrentUser
from shared.schemas import ErrorEnvelope

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 5.1: token responses


def _errors(*statuses: int) -> dict[int | str, dict]:
    text = {401: "Not signed in, or bad credentials / refresh token", 403: "The current password is wrong",
            409: "Username or e-mail already taken (details name the field)"}
    return {status: {"model": ErrorEnvelope, "description": text[status]} for status in statuses}


def client_ip(request: Request) -> str:
    """API Gateway's requestContext.http.sourceIp (Mangum's scope["client"]); never X-Forwarded-For."""
    return request.client.host if request.client else "unknown"


async def throttled_ip(ip: Annotated[str, Depends(client_ip)]) -> str:
    accounts.throttle_ip(ip)
    return ip


ClientIp = Annotated[str, Depends(throttled_ip)]
router = api_router("/auth", tags=["auth"])
jwks_router = api_router("/.well-known", tags=["auth"])


@router.post("/register", status_code=201, response_model=RegisteredPublic, responses=_errors(409))
async def register(body: UserCreate, _: ClientIp, response: Response) -> RegisteredPublic:
    response.headers.update(NO_STORE)
    return accounts.register(body)


@router.post("/login", response_model=TokenPublic, responses=_errors(401))
async def login(body: LoginCreate, ip: ClientIp, response: Response) -> TokenPublic:
    response.headers.update(NO_STORE)
    return accounts.login(body, ip)


@router.post("/refresh", response_model=TokenPublic, responses=_errors(401))
async def refresh(body: RefreshCreate, _: ClientIp, response: Response) -> TokenPublic:
    response.headers.update(NO_STORE)
    return db.run(lambda conn: sessions.refresh(conn, body.refresh_token))


@router.post("/logout", status_code=204, response_class=Response)
async def logout(body: RefreshCreate, _: ClientIp) -> Response:
    """This device: revoke the sign-in (family) of the given refresh token."""
    db.run(lambda conn: sessions.end(conn, body.refresh_token))
    return Response(status_code=204)


@router.post("/logout-all", status_code=204, response_class=Response, responses=_errors(401))
async def logout_all(user_id: CurrentUser, _: ClientIp) -> Response:
    """Every device: revoke all of the caller's sign-ins."""
    db.run(lambda conn: sessions.end_all(conn, user_id))
    return Response(status_code=204)


@router.post("/password", response_model=TokenPublic, responses=_errors(401, 403, 409))
async def change_password(body: PasswordUpdate, user_id: CurrentUser, ip: ClientIp,
                          response: Response) -> TokenPublic:
    response.headers.update(NO_STORE)
    return accounts.change_password(user_id, body, ip)


@router.get("/me", response_model=ProfilePublic, responses=_errors(401))
async def me(user_id: CurrentUser, response: Response) -> ProfilePublic:
    response.headers["Cache-Control"] = "no-store"
    return accounts.me(user_id)


@jwks_router.get("/jwks.json")
async def jwks(response: Response) -> dict:
    """The public signing keys. Cacheable for 5 minutes: a new key is published well before it signs."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return keys.jwks()


app = create_app(router, jwks_router)
handler = Mangum(app, lifespan="off")
