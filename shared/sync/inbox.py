"""The conflict inbox (issue 13): ``GET /sync/conflicts`` pages the pending conflicts, and
``POST /sync/conflicts/{id}/ack`` clears one on every device.

A conflict is also an entry of the change log (``entity: "conflict"``), so ``GET /sync`` already
delivers it to a device that was away, and a snapshot carries the pending ones; acknowledging appends
the tombstone that makes the other devices drop it. Another user's conflict is the same 404 as a
missing one; acknowledging twice is a no-op.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.clients import db
from shared.core.errors import NotFoundError, SessionRevokedError
from shared.core.headers import SYNC_VERSION
from shared.models.sync import ConflictPage
from shared.repositories import conflicts
from shared.repositories.cursors import decode_cursor, encode_cursor

CURSOR = "conflicts"


def _position(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("not a conflict position")
    return value


def page(user_id: uuid.UUID, *, limit: int, cursor: str | None) -> tuple[ConflictPage, int]:
    """``(one page of pending conflicts, oldest first; the caller's sync version)``."""
    after, _ = decode_cursor(cursor, CURSOR, _position, uuid.UUID)
    version, rows = db.run(lambda conn: conflicts.pending(conn, user_id, after=after, limit=limit + 1))
    shown = rows[:limit]
    next_cursor = encode_cursor(CURSOR, shown[-1]["k"], shown[-1]["item"]["id"]) if len(rows) > limit else None
    return ConflictPage(items=[r["item"] for r in shown], next_cursor=next_cursor), version


def acknowledge(user_id: uuid.UUID, conflict_id: uuid.UUID) -> int:
    """Clear a pending conflict (tombstone pushed to the other devices); the caller's sync version."""
    from shared.sync.notify import after_acknowledged

    row = db.run(lambda conn: conflicts.acknowledge(conn, user_id, conflict_id))
    if row is not None and not row["live"]:
        raise SessionRevokedError()
    if row is None or not row["found"]:
        headers = {SYNC_VERSION: str(row["sync_version"])} if row else {}
        raise NotFoundError("no such conflict", headers=headers)
    if row["change"] is not None:
        after_acknowledged(user_id, {**row["change"], "connections": row["connections"]})
    return int(row["sync_version"])
