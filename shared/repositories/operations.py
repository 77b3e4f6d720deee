"""SQL for offline batches: once-only operations and the conflict log.

An operation id is claimed (``INSERT … ON CONFLICT DO NOTHING``) in the same transaction that
applies it and stores its result, so a replayed batch — or two devices replaying the same queue
at once — applies each operation exactly once and answers replays with the stored result.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from shared.core.errors import SessionRevokedError
from shared.repositories.sql import LIVE, LIVE_SESSION, session_params

if TYPE_CHECKING:
    import psycopg

Row = dict[str, Any]

# The claim also checks the caller's sign-in is still live (``LIVE_SESSION``): a revoked device's
# batch claims nothing and changes nothing.
CLAIM = f"""
WITH {LIVE_SESSION},
claimed AS (
    INSERT INTO applied_operations (owner_id, op_id, result)
    SELECT %(owner_id)s, %(op_id)s, '{{}}'::jsonb WHERE {LIVE}
    ON CONFLICT (owner_id, op_id) DO NOTHING
    RETURNING op_id
)
SELECT {LIVE} AS live, EXISTS (SELECT 1 FROM claimed) AS claimed
"""
STORED_RESULT = "SELECT result FROM applied_operations WHERE owner_id = %(owner_id)s AND op_id = %(op_id)s"
STORE_RESULT = "UPDATE applied_operations SET result = %(result)s WHERE owner_id = %(owner_id)s AND op_id = %(op_id)s"
LOG_CONFLICT = """
INSERT INTO sync_conflicts (owner_id, entity, entity_id, op_id, resolution, winner, loser)
VALUES (%(owner_id)s, 'skill', %(entity_id)s, %(op_id)s, %(resolution)s, %(winner)s, %(loser)s)
"""
# A level that lost: kept in the skill's history, flagged, never applied to the skill.
SUPERSEDED_LEVEL = """
INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, note, superseded)
SELECT s.id, s.owner_id, s.level, %(level)s, %(note)s, true FROM skills s
WHERE s.id = %(skill_id)s AND s.owner_id = %(owner_id)s
"""
CONFLICTS = """
SELECT id, entity, entity_id, op_id, resolution, winner, loser, created_at FROM sync_conflicts
WHERE owner_id = %(owner_id)s AND entity_id = %(entity_id)s ORDER BY id
"""

# Idempotency-Key (shared.http.idempotency): the same once-only claim, with the request's hash stored
# at once (a concurrent different request is told apart from an in-flight retry) and the claiming
# run's id (so re-sending this very statement after a lost answer finds its own claim). A key older
# than its time to live, or claimed without an answer for longer than any request runs (the run
# died), is claimed afresh. ``result`` is what is stored (NULL: claimed by a transaction this
# statement's snapshot does not see: in flight).
CLAIM_REQUEST = """
WITH owner AS (SELECT id FROM users WHERE id = %(owner_id)s),
claimed AS (
    INSERT INTO applied_operations (owner_id, op_id, result)
    SELECT owner.id, %(op_id)s, jsonb_build_object('request', %(request)s::text, 'run', %(run)s::text) FROM owner
    ON CONFLICT (owner_id, op_id) DO UPDATE SET result = EXCLUDED.result, created_at = now()
    WHERE applied_operations.created_at < now() - make_interval(secs => %(ttl_s)s)
       OR (NOT applied_operations.result ? 'status'
           AND applied_operations.created_at < now() - make_interval(secs => %(abandoned_s)s))
    RETURNING op_id
)
SELECT EXISTS (SELECT 1 FROM owner) AS owner, EXISTS (SELECT 1 FROM claimed) AS claimed,
       (SELECT result FROM applied_operations WHERE owner_id = %(owner_id)s AND op_id = %(op_id)s) AS result
"""
# Free a claim whose request ended without an answer worth keeping (never a stored one).
RELEASE_REQUEST = """
DELETE FROM applied_operations
WHERE owner_id = %(owner_id)s AND op_id = %(op_id)s AND NOT result ? 'status'
"""

# Scheduled purges, one page each (the predicate repeated outside the page re-checks a row that
# changed meanwhile). Once an operation's record is gone a late replay is applied again, and
# last-write-wins by ``updated_at`` makes that harmless; see shared.core.settings for the windows.
# Idempotency keys (op ids starting with "@") go after ``key_ttl_s``, batch operations after
# ``retention_s`` (the longer window).
_EXPIRED = """created_at < now() - make_interval(secs => least(%(retention_s)s, %(key_ttl_s)s))
        AND (op_id LIKE '@%%' OR created_at < now() - make_interval(secs => %(retention_s)s))"""
PURGE_APPLIED = f"""
DELETE FROM applied_operations
WHERE (owner_id, op_id) IN (
        SELECT owner_id, op_id FROM applied_operations
        WHERE {_EXPIRED} LIMIT %(limit)s)
  AND {_EXPIRED}
"""
PURGE_CONFLICTS = """
DELETE FROM sync_conflicts
WHERE id IN (SELECT id FROM sync_conflicts
             WHERE created_at < now() - make_interval(secs => %(retention_s)s) LIMIT %(limit)s)
"""


def claim(conn: psycopg.Connection, owner_id: uuid.UUID, op_id: str) -> bool:
    """True when this call owns ``op_id`` (first time seen); False for a replay. Raises
    UnauthorizedError when the caller's sign-in was revoked."""
    row = conn.execute(CLAIM, {"owner_id": owner_id, "op_id": op_id, **session_params()}).fetchone()
    if row is None or not row["live"]:
        raise SessionRevokedError()
    return bool(row["claimed"])


def stored_result(conn: psycopg.Connection, owner_id: uuid.UUID, op_id: str) -> Row:
    row = conn.execute(STORED_RESULT, {"owner_id": owner_id, "op_id": op_id}).fetchone()
    return row["result"] if row else {}


def store_result(conn: psycopg.Connection, owner_id: uuid.UUID, op_id: str, result: Row) -> None:
    conn.execute(STORE_RESULT, {"owner_id": owner_id, "op_id": op_id, "result": Jsonb(result)})


def log_conflict(conn: psycopg.Connection, owner_id: uuid.UUID, *, entity_id: uuid.UUID, op_id: str,
                 resolution: str, winner: Row | None, loser: Row | None) -> None:
    conn.execute(LOG_CONFLICT, {"owner_id": owner_id, "entity_id": entity_id, "op_id": op_id,
                                "resolution": resolution, "winner": Jsonb(winner), "loser": Jsonb(loser)})


def keep_superseded_level(conn: psycopg.Connection, owner_id: uuid.UUID, skill_id: uuid.UUID, level: int,
                          note: str | None) -> None:
    conn.execute(SUPERSEDED_LEVEL, {"owner_id": owner_id, "skill_id": skill_id, "level": level, "note": note})


def conflicts_for(conn: psycopg.Connection, owner_id: uuid.UUID, entity_id: uuid.UUID) -> list[Row]:
    return conn.execute(CONFLICTS, {"owner_id": owner_id, "entity_id": entity_id}).fetchall()


def purge_applied(conn: psycopg.Connection, *, retention_s: int, limit: int, key_ttl_s: int | None = None) -> int:
    """Forget up to ``limit`` operation records older than ``retention_s`` (idempotency keys: older
    than ``key_ttl_s``); returns how many."""
    params = {"retention_s": retention_s, "limit": limit,
              "key_ttl_s": retention_s if key_ttl_s is None else key_ttl_s}
    return conn.execute(PURGE_APPLIED, params).rowcount


def claim_request(conn: psycopg.Connection, owner_id: uuid.UUID, op_id: str, request: str, *, run: str,
                  ttl_s: int, abandoned_s: int = 120) -> tuple[bool, Row | None]:
    """``(claimed, stored result)`` for an Idempotency-Key: claimed = this run (``run``) goes first,
    also when this is a re-send of its own claim whose answer was lost."""
    params = {"owner_id": owner_id, "op_id": op_id, "request": request, "run": run, "ttl_s": ttl_s,
              "abandoned_s": abandoned_s}
    row = conn.execute(CLAIM_REQUEST, params).fetchone()
    if row is None or not row["owner"]:
        from shared.core.errors import UnauthorizedError

        raise UnauthorizedError("the account behind this token no longer exists")
    result = row["result"]
    mine = result is not None and result.get("run") == run and "status" not in result
    return bool(row["claimed"]) or mine, result


def release_request(conn: psycopg.Connection, owner_id: uuid.UUID, op_id: str) -> None:
    conn.execute(RELEASE_REQUEST, {"owner_id": owner_id, "op_id": op_id})


def purge_conflicts(conn: psycopg.Connection, *, retention_s: int, limit: int) -> int:
    """Delete up to ``limit`` conflict-log rows older than ``retention_s``; returns how many."""
    return conn.execute(PURGE_CONFLICTS, {"retention_s": retention_s, "limit": limit}).rowcount
