"""Access tokens: RS256 JWTs issued at sign-in and verified by every function, with pinned algorithms.

``verify_access_token`` serves every handler; HTTP routes reach it through ``shared.http.auth``'s
``CurrentUser`` dependency, plain handlers (WebSocket, scheduled) call it directly. Verification
pins ``algorithms=["RS256"]`` (so ``alg: none`` and HS256-with-the-public-key forgeries fail), looks
the key up by ``kid``, requires every claim we issue, and checks ``iss``, ``aud`` and ``typ``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from shared.core.errors import UnauthorizedError
from shared.core.settings import get_settings
from shared.identity import keys

ALGORITHMS = ["RS256"]
ACCESS_TYPE = "access"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "typ"]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user id, the token's id, and the sign-in (refresh family) that minted it."""

    user_id: uuid.UUID
    token_id: str
    session_id: uuid.UUID | None = None  # the ``sid`` claim; None only for tokens minted outside a sign-in


def issue_access_token(user_id: uuid.UUID | str, session_id: uuid.UUID | str | None = None) -> tuple[str, int]:
    """A signed access token for ``user_id`` and its lifetime in seconds.

    ``session_id`` (claim ``sid``) is the refresh-token family id of the sign-in that minted the token,
    so a request knows which device it comes from ("this device" in GET /me/sessions).
    """
    import jwt

    settings = get_settings()
    now = int(time.time())
    key = keys.signing_key()
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "iat": now,
        "exp": now + settings.access_token_ttl_s,
        "jti": uuid.uuid4().hex,
        "typ": ACCESS_TYPE,
    }
    if session_id is not None:
        claims["sid"] = str(session_id)
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    return token, settings.access_token_ttl_s


def verify_access_token(token: str) -> Principal:
    """The caller behind ``token``, or UnauthorizedError — never anything else."""
    import jwt

    settings = get_settings()
    invalid = UnauthorizedError("invalid or expired access token",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    try:
        header = jwt.get_unverified_header(token)
        key = keys.public_key(str(header.get("kid", "")))
        if key is None or header.get("alg") not in ALGORITHMS:
            raise invalid
        claims = jwt.decode(
            token, key, algorithms=ALGORITHMS, audience=settings.jwt_audience, issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_s, options={"require": REQUIRED_CLAIMS},
        )
        if claims.get("typ") != ACCESS_TYPE:
            raise invalid
        sid = claims.get("sid")
        return Principal(uuid.UUID(str(claims["sub"])), str(claims["jti"]), uuid.UUID(str(sid)) if sid else None)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise invalid from exc
