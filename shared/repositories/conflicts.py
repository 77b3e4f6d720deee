"""SQL for the durable conflict inbox (issue 13). One statement per function.

A conflict is recorded in ``sync_conflicts`` AND appended to the owner's change log as an entry
``entity = 'conflict'`` (``entity_id`` = the conflict's public id, ``data`` = its JSON), with its
own ``sync_version`` bump, so a device that was offline when it happened learns of it through
``GET /sync``. Acknowledging it stamps ``acked_at`` and appends a tombstone (``op = 'delete'``), so
every device clears it. ``CONFLICT_CTES`` is the same recording as a fragment, for write statements
that detect the conflict themselves (a failed ``If-Match``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from shared.repositories.sql import CHANGE_RETURNING, LIVE, LIVE_CONNECTIONS, LIVE_SESSION, Row, iso, session_params

if TYPE_CHECKING:
    import psycopg


def conflict_json(alias: str) -> str:
    """A conflict's public JSON (``GET /sync/conflicts`` items and the change log's ``data``)."""
    a = alias
    return (f"jsonb_build_object('id', {a}.public_id, 'entity', {a}.entity, 'entity_id', {a}.entity_id,"
            f" 'source', {a}.source, 'op_id', {a}.op_id, 'resolution', {a}.resolution, 'winner', {a}.winner,"
            f" 'loser', {a}.loser, 'created_at', {iso(f'{a}.created_at')})")


# Given a CTE ``lost(entity, entity_id, winner, loser)`` (at most one row) and a CTE ``ver(id,
# sync_version)`` that bumped the owner's version for it, record the conflict and its log entry.
CONFLICT_CTES = f"""
conf AS (
    INSERT INTO sync_conflicts (owner_id, entity, entity_id, op_id, source, resolution, winner, loser)
    SELECT ver.id, lost.entity, lost.entity_id, %(op_id)s::text, %(source)s::text, 'stored_won',
           lost.winner, lost.loser
    FROM ver, lost
    RETURNING *
),
cchg AS (
    INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
    SELECT conf.owner_id, ver.sync_version, 'conflict', conf.public_id, 'upsert', {conflict_json('conf')}
    FROM ver, conf
    {CHANGE_RETURNING}
)"""

RECORD = f"""
WITH lost AS (
    SELECT %(entity)s::text AS entity, %(entity_id)s::uuid AS entity_id, %(winner)s::jsonb AS winner,
           %(loser)s::jsonb AS loser
),
ver AS (
    UPDATE users SET sync_version = sync_version + 1 WHERE id = %(owner_id)s RETURNING id, sync_version
),
conf AS (
    INSERT INTO sync_conflicts (owner_id, entity, entity_id, op_id, source, resolution, winner, loser)
    SELECT ver.id, lost.entity, lost.entity_id, %(op_id)s::text, %(source)s::text, %(resolution)s::text,
           lost.winner, lost.loser
    FROM ver, lost
    RETURNING *
),
cchg AS (
    INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
    SELECT conf.owner_id, ver.sync_version, 'conflict', conf.public_id, 'upsert', {conflict_json('conf')}
    FROM ver, conf
    {CHANGE_RETURNING}
)
SELECT ver.sync_version, cchg.data AS conflict, cchg.change FROM ver, cchg
"""

PAGE = f"""
SELECT u.sync_version, c.item, c.k
FROM users u
LEFT JOIN LATERAL (
    SELECT {conflict_json('x')} AS item, x.id AS k
    FROM sync_conflicts x
    WHERE x.owner_id = u.id AND x.acked_at IS NULL AND (%(after)s::bigint IS NULL OR x.id > %(after)s::bigint)
    ORDER BY x.id
    LIMIT %(limit)s
) c ON true
WHERE u.id = %(owner_id)s
"""

# Acknowledge: only a pending conflict of this owner is stamped, and only then is the version bumped
# and a tombstone logged; acknowledging twice is a no-op (``found`` and not ``acked``).
ACK = f"""
WITH {LIVE_SESSION},
cur AS (
    SELECT x.id, x.public_id, x.acked_at FROM sync_conflicts x
    WHERE x.public_id = %(conflict_id)s AND x.owner_id = %(owner_id)s
    FOR UPDATE
),
ack AS (
    UPDATE sync_conflicts x SET acked_at = now() FROM cur WHERE x.id = cur.id AND cur.acked_at IS NULL AND {LIVE}
    RETURNING x.public_id
),
ver AS (
    UPDATE users SET sync_version = sync_version + 1
    WHERE id = %(owner_id)s AND EXISTS (SELECT 1 FROM ack)
    RETURNING id, username, sync_version
),
chg AS (
    INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
    SELECT ver.id, ver.sync_version, 'conflict', ack.public_id, 'delete', NULL FROM ver, ack
    {CHANGE_RETURNING}
)
SELECT COALESCE(ver.sync_version, u.sync_version) AS sync_version, u.username,
       EXISTS (SELECT 1 FROM cur) AS found, (SELECT change FROM chg) AS change, {LIVE} AS live,
       {LIVE_CONNECTIONS}
FROM users u LEFT JOIN ver ON ver.id = u.id
WHERE u.id = %(owner_id)s
"""


def record(conn: psycopg.Connection, owner_id: uuid.UUID, *, entity: str, entity_id: uuid.UUID,
           resolution: str, winner: Row | None, loser: Row | None, op_id: str | None = None,
           source: str = "batch") -> Row:
    """Record a conflict and its change-log entry: ``{"sync_version", "conflict", "change"}``."""
    from psycopg.types.json import Jsonb

    params = {"owner_id": owner_id, "entity": entity, "entity_id": entity_id, "resolution": resolution,
              "winner": Jsonb(winner), "loser": Jsonb(loser), "op_id": op_id, "source": source}
    row = conn.execute(RECORD, params).fetchone()
    assert row is not None, "the owner of a conflict exists (the write that lost just read their row)"
    return row


def pending(conn: psycopg.Connection, owner_id: uuid.UUID, *, after: int | None, limit: int) -> tuple[int, list[Row]]:
    """``(sync_version, rows {"item", "k"})``: up to ``limit`` pending conflicts after id ``after``."""
    rows = conn.execute(PAGE, {"owner_id": owner_id, "after": after, "limit": limit}).fetchall()
    if not rows:
        from shared.core.errors import UnauthorizedError

        raise UnauthorizedError("the account behind this token no longer exists")
    return int(rows[0]["sync_version"]), [r for r in rows if r["item"] is not None]


def acknowledge(conn: psycopg.Connection, owner_id: uuid.UUID, conflict_id: uuid.UUID) -> Row | None:
    """``{"sync_version", "found", "change", "live", "username", "connections"}``; None when the owner
    is gone; ``live`` False: the caller's sign-in was revoked and nothing changed."""
    return conn.execute(ACK, {"owner_id": owner_id, "conflict_id": conflict_id, **session_params()}).fetchone()
