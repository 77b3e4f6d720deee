"""Single-use WebSocket tickets: how a browser proves who it is on ``$connect``.

Browsers cannot set headers on a WebSocket, and a long-lived access token must not land in URL
logs, so the client trades its access token for a random ticket valid for 60 seconds and puts that
in the query string. Redis holds ``sha256(ticket) → user id`` with ``SET … EX`` (so a Redis dump
holds no usable tickets) and redemption is ``GETDEL``: atomic, so a ticket works exactly once even
when two connects race with it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from urllib.parse import urlencode

from shared.clients.redis import get_redis
from shared.core.errors import ServiceUnavailableError
from shared.core.settings import get_settings
from shared.models.realtime import TicketPublic

KEY_PREFIX = "ws-ticket:"
TICKET_BYTES = 32
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet; anything else is forged.
TICKET_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def ticket_key(ticket: str) -> str:
    """The Redis key for ``ticket`` (its hash, never the ticket itself)."""
    return KEY_PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(user_id: uuid.UUID, session_id: uuid.UUID | None = None) -> tuple[str, int]:
    """A new ticket for ``user_id`` (signed in as ``session_id``, the access token's ``sid``) and its lifetime."""
    ttl = get_settings().ws_ticket_ttl_s
    ticket = secrets.token_urlsafe(TICKET_BYTES)
    value = f"{user_id} {session_id}" if session_id else str(user_id)
    get_redis().set(ticket_key(ticket), value, ex=ttl)
    return ticket, ttl


def redeem(ticket: str | None) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    """(user, sign-in) a valid ticket was issued to, consuming it; None when missing, forged, expired or used.

    The sign-in (refresh family) is recorded with the connection, so signing that device out closes it.
    """
    if not ticket or not TICKET_SHAPE.fullmatch(ticket):
        return None
    value = get_redis().getdel(ticket_key(ticket))
    if not value:
        return None
    try:
        user, _, session = str(value).partition(" ")
        return uuid.UUID(user), uuid.UUID(session) if session else None
    except ValueError:
        return None


def redeem_ticket(ticket: str | None) -> uuid.UUID | None:
    """The user a valid ticket was issued to, consuming it (``redeem`` without the sign-in)."""
    holder = redeem(ticket)
    return holder[0] if holder else None


def connect_ticket(user_id: uuid.UUID, session_id: uuid.UUID | None = None) -> TicketPublic:
    """A new ticket and the WebSocket URL that carries it; 503 when the stage has no WebSocket API."""
    base = get_settings().websocket_url
    if not base:
        raise ServiceUnavailableError("realtime is not configured on this stage")
    ticket, ttl = issue_ticket(user_id, session_id)
    separator = "&" if "?" in base else "?"
    return TicketPublic(ticket=ticket, url=f"{base}{separator}{urlencode({'ticket': ticket})}", expires_in=ttl)
