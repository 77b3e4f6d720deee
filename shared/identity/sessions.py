"""Sign-ins as token pairs: a short-lived RS256 access token plus a rotating opaque refresh token.

The refresh token is 256 random bits; Postgres keeps only its SHA-256 (a fast hash is right here: the
input is random, so there is nothing to brute-force, and a lookup must be one indexed probe). Each
refresh replaces it inside its family; the rules (grace window, reuse revokes the family, 30-day idle
expiry) are enforced by one SQL statement in ``shared.repositories.refresh_tokens``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shared.core.errors import UnauthorizedError
from shared.core.observability import logger
from shared.core.settings import get_settings
from shared.identity.tokens import issue_access_token
from shared.models.accounts import TokenPublic
from shared.repositories import refresh_tokens

if TYPE_CHECKING:
    import psycopg


def new_refresh_token() -> tuple[str, bytes]:
    """(token for the client, hash for the database)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Device:
    """What a sign-in records about the device: a name (client label, else from the user agent) and
    the network it came from, coarsened to a prefix (/24 for IPv4, /48 for IPv6), never the address."""

    name: str | None = None
    ip_prefix: str | None = None

    @classmethod
    def of(cls, *, user_agent: str | None, client_ip: str | None, label: str | None = None) -> Device:
        return cls(name=(label or device_name(user_agent))[:100] or None, ip_prefix=ip_prefix(client_ip))


UA_MAX_CHARS = 512  # what the parser reads of a User-Agent: bounds its regex work whatever a client sends
SYSTEMS = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}  # ua-parser's family names as people say them


@lru_cache(maxsize=1)
def _ua_parser() -> Any:
    """ua-parser (the pinned, maintained port of the uap-core regexes) with lazily compiled rules.

    Imported here, on first use, and only by the auth function (its OAuthLayer ships it): importing
    and the first parse cost tens of milliseconds (bench ``accounts``), which a cold start of any
    other route should not pay; lazy rules compile only the regexes a User-Agent actually reaches.
    """
    from ua_parser import BasicResolver, Parser, load_lazy_builtins

    return Parser(BasicResolver(load_lazy_builtins()))


@lru_cache(maxsize=256)
def device_name(user_agent: str | None) -> str:
    """"Firefox on Android", "Safari on iPhone", … from a User-Agent; "Unknown device" when unsure.

    The browser is ua-parser's user-agent family without its "Mobile" marker (the system says that);
    the system is its OS family, or the device (iPhone, iPad) for iOS.
    """
    if not user_agent:
        return "Unknown device"
    parsed = _ua_parser().parse(user_agent[:UA_MAX_CHARS])
    browser = parsed.user_agent.family if parsed.user_agent and parsed.user_agent.family != "Other" else None
    if browser:
        browser = " ".join(word for word in browser.split() if word not in ("Mobile", "iOS")) or browser
    system = parsed.os.family if parsed.os and parsed.os.family != "Other" else None
    device = parsed.device.family if parsed.device else None
    if system == "iOS" and device in ("iPhone", "iPad", "iPod"):
        system = device
    system = SYSTEMS.get(system or "", system)
    if browser and system and browser != system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def ip_prefix(client_ip: str | None) -> str | None:
    import ipaddress

    try:
        address = ipaddress.ip_address(client_ip or "")
    except ValueError:
        return None
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def pair(user_id: uuid.UUID, refresh_token: str, family_id: uuid.UUID, locale: str | None = None, *,
         signed_in: bool = False) -> TokenPublic:
    """The access token (``sid`` = the family, ``lang`` = the user's language setting) and the refresh
    token of one sign-in. ``signed_in``: the user proved who they are just now (a sign-in, not a
    refresh), so the token carries ``auth_time``."""
    import time

    access_token, ttl = issue_access_token(user_id, family_id, locale, int(time.time()) if signed_in else None)
    return TokenPublic(access_token=access_token, refresh_token=refresh_token, expires_in=ttl)


def begin(conn: psycopg.Connection, user_id: uuid.UUID, device: Device | None = None) -> tuple[TokenPublic, uuid.UUID]:
    """A new sign-in (new family) for ``user_id`` on ``device``: the pair and the family id."""
    token, digest = new_refresh_token()
    device = device or Device()
    row = refresh_tokens.create_family(conn, user_id=user_id, token_hash=digest,
                                       idle_s=get_settings().refresh_idle_ttl_s, device_name=device.name,
                                       ip_prefix=device.ip_prefix)
    return pair(user_id, token, row["family_id"], row["locale"], signed_in=True), row["family_id"]


def start(conn: psycopg.Connection, user_id: uuid.UUID, device: Device | None = None) -> TokenPublic:
    """A new sign-in (new family) for ``user_id`` on ``device``."""
    return begin(conn, user_id, device)[0]


def refresh(conn: psycopg.Connection, presented: str) -> TokenPublic:
    """Rotate ``presented`` into a new pair, or UnauthorizedError (the same answer for every failure)."""
    settings = get_settings()
    token, digest = new_refresh_token()
    row = refresh_tokens.rotate(conn, token_hash=token_hash(presented), new_hash=digest,
                                grace_s=settings.refresh_grace_s, idle_s=settings.refresh_idle_ttl_s)
    if row is None or row["outcome"] not in ("rotated", "grace"):
        if row is not None and row["outcome"] == "reuse":
            logger.warning("refresh token reuse: family revoked",
                           extra={"family_id": str(row["family_id"]), "user_id": str(row["user_id"])})
        raise UnauthorizedError("invalid or expired refresh token", code="invalid_grant")
    return pair(row["user_id"], token, row["family_id"], row["locale"])


def end(conn: psycopg.Connection, presented: str) -> None:
    """Log this device out: revoke the family of ``presented`` (unknown tokens are ignored, RFC 7009)."""
    refresh_tokens.revoke_family_of(conn, token_hash(presented))


def end_all(conn: psycopg.Connection, user_id: uuid.UUID) -> int:
    """Log every device out; access tokens already issued expire within their 15 minutes."""
    return refresh_tokens.revoke_all(conn, user_id)


def restart_with_password(conn: psycopg.Connection, user_id: uuid.UUID, old_hash: str,
                          new_hash: str, device: Device | None = None) -> tuple[TokenPublic, uuid.UUID] | None:
    """Store a new password hash, revoke every family and start a fresh one: the pair and its family;
    None if ``old_hash`` is stale."""
    token, digest = new_refresh_token()
    device = device or Device()
    row = refresh_tokens.change_password(conn, user_id=user_id, old_hash=old_hash, new_hash=new_hash,
                                         token_hash=digest, idle_s=get_settings().refresh_idle_ttl_s,
                                         device_name=device.name, ip_prefix=device.ip_prefix)
    return (pair(user_id, token, row["family_id"], row["locale"], signed_in=True), row["family_id"]) if row else None

