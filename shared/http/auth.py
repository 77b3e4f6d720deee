"""The FastAPI dependencies that say who is calling: ``CurrentUser`` (the caller's id),
``CurrentPrincipal`` (id and token id) and ``ClientIp`` (the caller's address, already drawn from the
per-IP limit in front of credentials). The token check itself is
``shared.identity.tokens.verify_access_token``, the one check every function shares.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.core import context, i18n
from shared.core.errors import UnauthorizedError
from shared.identity import ratelimit
from shared.identity.sessions import Device
from shared.identity.tokens import Principal, verify_access_token

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/login")


async def _current_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise UnauthorizedError("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    principal = verify_access_token(credentials.credentials)
    context.session_id.set(principal.session_id)  # writes check this sign-in is still live
    if principal.locale in i18n.LOCALES:  # issue 17: the user's own language beats Accept-Language
        i18n.user_locale.set(principal.locale)
    return principal


async def _current_user_id(principal: Annotated[Principal, Depends(_current_principal)]) -> uuid.UUID:
    return principal.user_id


async def _optional_user_id(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> uuid.UUID | None:
    """The caller when a bearer token is sent (it must be valid), else None."""
    if credentials is None:
        return None
    return (await _current_principal(credentials)).user_id


async def user_of(credentials: HTTPAuthorizationCredentials | None) -> uuid.UUID:
    """The caller, for a public route that needs a token only for some of its parameters (e.g.
    ``GET /leaderboard?around=me``): the same check as ``CurrentUser``, run only when asked, so a
    stale token sent along to the public view does not turn it into a 401."""
    return (await _current_principal(credentials)).user_id


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]
BearerIfSent = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
CurrentUser = Annotated[uuid.UUID, Depends(_current_user_id)]
OptionalUser = Annotated[uuid.UUID | None, Depends(_optional_user_id)]


def client_ip(request: Request) -> str:
    """The caller's address, the one place any code reads it: API Gateway's requestContext.http.sourceIp
    (Mangum's scope["client"]), or, for a request proven to come through our CloudFront, the viewer's
    address that ``shared.http.viewer`` put there. Never X-Forwarded-For."""
    return request.client.host if request.client else "unknown"


async def _throttled_ip(ip: Annotated[str, Depends(client_ip)]) -> str:
    ratelimit.throttle_auth_ip(ip)
    return ip


ClientIp = Annotated[str, Depends(_throttled_ip)]


def _device(request: Request, user_agent: Annotated[str | None, Header()] = None) -> Device:
    """The device a sign-in is recorded under (name from the User-Agent, coarse IP prefix)."""
    return Device.of(user_agent=user_agent, client_ip=client_ip(request))


ThisDevice = Annotated[Device, Depends(_device)]


async def _search_throttled_ip(ip: Annotated[str, Depends(client_ip)]) -> str:
    ratelimit.throttle_search_ip(ip)
    return ip


SearchClientIp = Annotated[str, Depends(_search_throttled_ip)]


async def _rank_throttled_ip(ip: Annotated[str, Depends(client_ip)]) -> str:
    ratelimit.throttle_rank_ip(ip)
    return ip


RankClientIp = Annotated[str, Depends(_rank_throttled_ip)]
