"""SQL for ``ws_connections``: which WebSocket connections each user has open right now.

A row is written by ``$connect`` and removed by ``$disconnect`` — or, because AWS calls
``$disconnect`` only on a best-effort basis, by the first fan-out that gets 410 Gone for it.
Rows past ``expires_at`` (API Gateway's maximum connection lifetime) are never fanned out to, and
are swept when the same user connects again, so the table cannot grow without bound.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

Row = dict[str, Any]

REGISTER = """
WITH swept AS (
    DELETE FROM ws_connections WHERE user_id = %(user_id)s AND expires_at <= now()
)
INSERT INTO ws_connections (connection_id, user_id, session_id, connected_at, last_seen, expires_at)
VALUES (%(connection_id)s, %(user_id)s, %(session_id)s, %(connected_at)s, now(),
        %(connected_at)s + make_interval(secs => %(max_lifetime_s)s))
ON CONFLICT (connection_id) DO UPDATE
    SET user_id = EXCLUDED.user_id, session_id = EXCLUDED.session_id, last_seen = now(),
        expires_at = EXCLUDED.expires_at
RETURNING connection_id, user_id, connected_at, expires_at
"""
DELETE_ONE = "DELETE FROM ws_connections WHERE connection_id = %(connection_id)s RETURNING user_id"
DELETE_STALE = """
DELETE FROM ws_connections WHERE user_id = %(user_id)s AND connection_id = ANY(%(connection_ids)s)
"""
SELECT_LIVE_FOR_USER = """
SELECT connection_id FROM ws_connections
WHERE user_id = %(user_id)s AND expires_at > now() AND connection_id IS DISTINCT FROM %(exclude)s
ORDER BY connected_at
"""
# A message event carries only the connection id: find its user and their version, and mark it seen.
TOUCH_WITH_VERSION = """
UPDATE ws_connections c SET last_seen = now()
FROM users u
WHERE c.connection_id = %(connection_id)s AND u.id = c.user_id
RETURNING c.user_id, u.sync_version
"""

# The scheduled sweep of every user's dead rows (REGISTER only sweeps the connecting user's): past
# expires_at, or connected longer ago than API Gateway's maximum lifetime, which closes them anyway.
# The predicate is repeated outside the page so a row a retried $connect just renewed is kept.
PURGE_EXPIRED = """
DELETE FROM ws_connections
WHERE connection_id IN (
        SELECT connection_id FROM ws_connections
        WHERE expires_at <= now() OR connected_at <= now() - make_interval(secs => %(max_lifetime_s)s)
        LIMIT %(limit)s)
  AND (expires_at <= now() OR connected_at <= now() - make_interval(secs => %(max_lifetime_s)s))
"""


def register(conn: psycopg.Connection, *, connection_id: str, user_id: uuid.UUID, connected_at: datetime,
             max_lifetime_s: int, session_id: uuid.UUID | None = None) -> Row:
    """Record an open connection (idempotent for a retried ``$connect``); sweeps the user's expired ones.

    ``session_id`` is the sign-in (refresh family) it was opened under: revoking it closes the socket.
    """
    params = {"connection_id": connection_id, "user_id": user_id, "connected_at": connected_at,
              "max_lifetime_s": max_lifetime_s, "session_id": session_id}
    row = conn.execute(REGISTER, params).fetchone()
    assert row is not None
    return row


def remove(conn: psycopg.Connection, connection_id: str) -> bool:
    """Forget one connection; True when it was known."""
    return conn.execute(DELETE_ONE, {"connection_id": connection_id}).fetchone() is not None


def remove_stale(conn: psycopg.Connection, user_id: uuid.UUID, connection_ids: list[str]) -> int:
    """Delete connections a fan-out found gone (410), scoped to their user; returns how many."""
    if not connection_ids:
        return 0
    return conn.execute(DELETE_STALE, {"user_id": user_id, "connection_ids": connection_ids}).rowcount


def live_for_user(conn: psycopg.Connection, user_id: uuid.UUID, exclude: str | None = None) -> list[str]:
    """The user's unexpired connection ids, oldest first, without ``exclude`` (the writer's own)."""
    rows = conn.execute(SELECT_LIVE_FOR_USER, {"user_id": user_id, "exclude": exclude}).fetchall()
    return [row["connection_id"] for row in rows]


def touch(conn: psycopg.Connection, connection_id: str) -> Row | None:
    """``{"user_id", "sync_version"}`` for a registered connection (marking it seen), else None."""
    return conn.execute(TOUCH_WITH_VERSION, {"connection_id": connection_id}).fetchone()


def purge_expired(conn: psycopg.Connection, *, max_lifetime_s: int, limit: int) -> int:
    """Delete up to ``limit`` connections API Gateway has closed by now; returns how many."""
    return conn.execute(PURGE_EXPIRED, {"max_lifetime_s": max_lifetime_s, "limit": limit}).rowcount
