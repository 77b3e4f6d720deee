"""The security log an account's owner can read: sign-ins and failures, password changes and resets,
verified addresses, devices signed out (GET /me/security-events).

Each entry records where it came from as coarsely as the device list does (IP prefix, device name),
never a full address. Entries are written on the connection of the write they describe.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from shared.clients import db
from shared.identity.sessions import Device
from shared.models.accounts import SecurityEventPublic, SecurityEventsPublic
from shared.repositories import security_events

if TYPE_CHECKING:
    import psycopg


def record(conn: psycopg.Connection, user_id: uuid.UUID, kind: str, device: Device | None = None,
           session_id: uuid.UUID | None = None) -> None:
    device = device or Device()
    security_events.record(conn, user_id=user_id, kind=kind, session_id=session_id, ip_prefix=device.ip_prefix,
                           device_name=device.name)


def record_failed_sign_in(login: str, device: Device | None) -> None:
    """Log a failed sign-in against the account ``login`` names: one statement whether or not it exists."""
    device = device or Device()
    db.run(lambda conn: security_events.record_by_login(conn, login=login, kind="sign_in_failed",
                                                        ip_prefix=device.ip_prefix, device_name=device.name))


def events(user_id: uuid.UUID, *, before: int | None, limit: int) -> SecurityEventsPublic:
    rows = db.run(lambda conn: security_events.page(conn, user_id=user_id, before=before, limit=limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [SecurityEventPublic(**{**row, "session_id": str(row["session_id"]) if row["session_id"] else None})
             for row in rows]
    return SecurityEventsPublic(events=items, next_before=rows[-1]["id"] if more else None)
