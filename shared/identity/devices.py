"""Sessions as devices: each refresh family is one signed-in device the user can see and sign out.

"This device" is the access token's ``sid``. Signing a device out revokes its family (its refresh
token stops at once; its access token lapses within 15 minutes) and closes the WebSockets opened
under it, and is written to the security log in the same transaction.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from shared.clients import db
from shared.core.errors import NotFoundError
from shared.identity import security_log
from shared.identity.sessions import Device
from shared.models.accounts import SessionPublic, SessionsPublic
from shared.repositories import refresh_tokens
from shared.sync import fanout

if TYPE_CHECKING:
    import psycopg


def devices(user_id: uuid.UUID, current: uuid.UUID | None) -> SessionsPublic:
    """The user's live sign-ins, most recently used first, "this device" marked."""
    rows = db.run(lambda conn: refresh_tokens.list_sessions(conn, user_id))
    return SessionsPublic(sessions=[SessionPublic(**{**row, "id": str(row["id"])}, current=row["id"] == current)
                                    for row in rows])


def sign_out_device(user_id: uuid.UUID, family_id: uuid.UUID, by: Device | None = None) -> None:
    """Revoke one sign-in and close its WebSockets; NotFoundError (404) unless it is the user's and live."""
    def revoke(conn: psycopg.Connection) -> list[str] | None:
        connections = refresh_tokens.revoke_session(conn, user_id, family_id)
        if connections is not None:
            security_log.record(conn, user_id, "session_revoked", by, family_id)
        return connections

    connections = db.run(revoke)
    if connections is None:
        raise NotFoundError("no such signed-in device")
    for connection_id in connections:
        fanout.close_connection(connection_id)


def sign_out_everywhere(user_id: uuid.UUID, by: Device | None = None) -> int:
    """Revoke every sign-in of the user (logout-all); the number revoked."""
    def revoke(conn: psycopg.Connection) -> int:
        count = refresh_tokens.revoke_all(conn, user_id)
        security_log.record(conn, user_id, "sessions_revoked", by)
        return count

    return db.run(revoke)
