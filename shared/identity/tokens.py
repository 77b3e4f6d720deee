"""Access tokens: RS256 JWTs issued at sign-in and verified by every function, with pinned algorithms.

``verify_access_token`` serves every handler; HTTP routes reach it through ``shared.http.auth``'s
``CurrentUser`` dependency, plain handlers (WebSocket, scheduled) call it directly. Verification
pins ``algorithms=["RS256"]`` (so ``alg: none`` and HS256-with-the-public-key forgeries fail), looks
the key up by ``kid``, requires every claim we issue, and checks ``iss``, ``aud`` and ``typ``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from shared.clients import registry
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
    locale: str | None = None  # the ``lang`` claim: the user's language setting when the token was minted
    auth_time: int | None = None  # when the user proved who they are (sign-in); None on refreshed tokens


def issue_access_token(user_id: uuid.UUID | str, session_id: uuid.UUID | str | None = None,
                       locale: str | None = None, auth_time: int | None = None) -> tuple[str, int]:
    """A signed access token for ``user_id`` and its lifetime in seconds.

    ``session_id`` (claim ``sid``) is the refresh-token family id of the sign-in that minted the token,
    so a request knows which device it comes from ("this device" in GET /me/sessions). ``auth_time``
    (OIDC's claim name: when the user authenticated) is given only by a sign-in — password, provider,
    reset link — and never by a refresh, so "signed in a moment ago" can stand in for the password
    on the routes that ask for one (``shared.identity.reauth``).
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
    if locale is not None:  # issue 17: the user's language (users.locale) as of this token; none: not chosen
        claims["lang"] = locale
    if auth_time is not None:
        claims["auth_time"] = int(auth_time)
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    return token, settings.access_token_ttl_s


# Verified tokens of this container (issue 14): a device sends the same access token with every
# request for its 15 minutes, so each token is verified once (RSA, claims) and then found by its
# exact string. An entry holds until the token's own expiry (+ the leeway verification allows) and
# goes with the key set it was verified under (a reload of the keys empties it), so a hit answers
# exactly what a full verification would. Failures are never cached. Bounded: when full, the oldest
# entry goes. Lambda runs one request at a time per container; dict operations are atomic anyway.
CACHE_SIZE = 2048
_verified: dict[str, tuple[Principal, float]] = {}
_verified_under: object | None = None


def verify_access_token(token: str) -> Principal:
    """The caller behind ``token``, or UnauthorizedError — never anything else."""
    global _verified_under
    key_set = keys.verification_keys()
    if key_set is not _verified_under:
        _verified.clear()
        _verified_under = key_set
    hit = _verified.get(token)
    if hit is not None:
        if time.time() < hit[1]:
            return hit[0]
        del _verified[token]
    principal, valid_until = _verify(token, key_set)
    if len(_verified) >= CACHE_SIZE:
        del _verified[next(iter(_verified))]
    _verified[token] = (principal, valid_until)
    return principal


def _verify(token: str, key_set: dict[str, Any]) -> tuple[Principal, float]:
    """Full verification, parsing the token once: the key is chosen by the ``kid`` of the header
    segment, then PyJWT checks the signature (RS256 only) and every claim in one ``decode_complete``.
    Returns the principal and the instant the token stops being valid."""
    import jwt
    from jwt.utils import base64url_decode

    settings = get_settings()
    invalid = UnauthorizedError("invalid or expired access token",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    try:
        header = json.loads(base64url_decode(token.split(".", 1)[0]))
        # An unknown kid re-reads the key set (rate-limited, issue 11): a rotation reaches this container
        # without a redeploy. The reload replaces the set, which empties the verified-token cache.
        kid = str(header.get("kid", "")) if isinstance(header, dict) else ""
        key = key_set.get(kid) or (keys.public_key(kid) if kid else None)
        if key is None or header.get("alg") not in ALGORITHMS:
            raise invalid
        claims = jwt.decode_complete(
            token, key, algorithms=ALGORITHMS, audience=settings.jwt_audience, issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_s, options={"require": REQUIRED_CLAIMS},
        )["payload"]
        if claims.get("typ") != ACCESS_TYPE:
            raise invalid
        sid = claims.get("sid")
        lang = claims.get("lang")
        auth_time = claims.get("auth_time")
        auth_time = auth_time if isinstance(auth_time, int) and not isinstance(auth_time, bool) else None
        principal = Principal(uuid.UUID(str(claims["sub"])), str(claims["jti"]),
                              uuid.UUID(str(sid)) if sid else None, lang if isinstance(lang, str) else None,
                              auth_time)
        return principal, float(claims["exp"]) + settings.jwt_leeway_s
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise invalid from exc


def reset_verified() -> None:
    global _verified_under
    _verified.clear()
    _verified_under = None


registry.register("verified-access-tokens", reset_verified)
