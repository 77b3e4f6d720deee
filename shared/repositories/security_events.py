"""SQL for the security log an account's owner reads (GET /me/security-events)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from shared.repositories.sql import iso

Row = dict[str, Any]

INSERT = """
INSERT INTO security_events (user_id, kind, session_id, ip_prefix, device_name)
VALUES (%(user_id)s, %(kind)s, %(session_id)s, %(ip_prefix)s, %(device_name)s)
"""

# A failed sign-in is logged against the account the login names, in the same one statement whether
# or not such an account exists (no row then), so logging costs known and unknown logins alike.
INSERT_BY_LOGIN = """
INSERT INTO security_events (user_id, kind, ip_prefix, device_name)
SELECT id, %(kind)s, %(ip_prefix)s, %(device_name)s FROM users
WHERE lower(username) = lower(%(login)s) OR lower(email) = lower(%(login)s)
LIMIT 1
"""

PAGE = f"""
SELECT id, kind, session_id, ip_prefix, device_name, {iso('created_at')} AS created_at
FROM security_events
WHERE user_id = %(user_id)s AND id < %(before)s
ORDER BY id DESC
LIMIT %(limit)s
"""

PURGE_OLD = """
DELETE FROM security_events WHERE id IN (
    SELECT id FROM security_events WHERE created_at < now() - make_interval(secs => %(retention_s)s)
    LIMIT %(limit)s)
"""


def record(conn: psycopg.Connection, *, user_id: uuid.UUID, kind: str, session_id: uuid.UUID | None = None,
           ip_prefix: str | None = None, device_name: str | None = None) -> None:
    conn.execute(INSERT, {"user_id": user_id, "kind": kind, "session_id": session_id, "ip_prefix": ip_prefix,
                          "device_name": device_name})


def record_by_login(conn: psycopg.Connection, *, login: str, kind: str, ip_prefix: str | None,
                    device_name: str | None) -> None:
    conn.execute(INSERT_BY_LOGIN, {"login": login, "kind": kind, "ip_prefix": ip_prefix,
                                   "device_name": device_name})


def page(conn: psycopg.Connection, *, user_id: uuid.UUID, before: int | None, limit: int) -> list[Row]:
    """Newest first, ids below ``before`` (keyset)."""
    return conn.execute(PAGE, {"user_id": user_id, "before": before or 2**63 - 1, "limit": limit}).fetchall()


def purge_old(conn: psycopg.Connection, *, retention_s: int, limit: int) -> int:
    return conn.execute(PURGE_OLD, {"retention_s": retention_s, "limit": limit}).rowcount
