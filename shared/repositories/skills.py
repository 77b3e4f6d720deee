"""SQL for skills and their level history. Each function is ONE statement, hence one round trip.

Writes are single statements of data-modifying CTEs, run in autocommit, so they are atomic without
BEGIN/COMMIT round trips: the skill row, its ``skill_progress`` row (when the level changes), the
owner's ``users.sync_version`` bump and the ``changes`` log row all commit together or not at all.
The version bump is chained on the row actually changing (``EXISTS (SELECT 1 FROM upd)``), so a
missing skill, another user's skill, a stale write or a no-op bumps nothing. Locking the user row
for the bump also serialises one user's writes, which keeps versions gap-free and ordered.

Seams for offline batches (issue 5): ``create_skill(skill_id=…)`` takes a client-generated id;
``updated_at=…`` stamps the client's time instead of ``now()``; ``if_unmodified_since=…`` refuses to
overwrite a row stored with a newer ``updated_at`` (status ``stale``, current state returned), which
is the primitive last-write-wins needs. Reads also return the caller's ``sync_version`` in the same
statement, for the ``X-Sync-Version`` header.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.core.errors import ConflictError, UnauthorizedError, ValidationFailedError
from shared.core.i18n import N_
from shared.repositories.conflicts import CONFLICT_CTES
from shared.repositories.cursors import decode_cursor, page
from shared.repositories.sql import (
    CHANGE_RETURNING,
    LIVE,
    LIVE_CONNECTIONS,
    LIVE_SESSION,
    Row,
    WriteResult,
    etag_sql,
    iso,
    session_params,
    skill_json,
    write_result,
)

if TYPE_CHECKING:
    import psycopg

EDITABLE = ("name", "category", "level", "description", "goal")


def _bounded_int(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str) or not low <= int(value) <= high:
            raise ValueError("out of range")
        return int(value)
    return parse


_timestamp = datetime.fromisoformat
# sort name → (SQL key expression, SQL type of the key, direction, parser of a cursor's value)
SORTS: dict[str, tuple[str, str, str, Callable[[Any], Any]]] = {
    "name": ("lower(x.name)", "text", "ASC", str),
    "-name": ("lower(x.name)", "text", "DESC", str),
    "level": ("x.level", "int", "ASC", _bounded_int(1, 10)),
    "-level": ("x.level", "int", "DESC", _bounded_int(1, 10)),
    "created_at": ("x.created_at", "timestamptz", "ASC", _timestamp),
    "-created_at": ("x.created_at", "timestamptz", "DESC", _timestamp),
    "updated_at": ("x.updated_at", "timestamptz", "ASC", _timestamp),
    "-updated_at": ("x.updated_at", "timestamptz", "DESC", _timestamp),
}


def _list_statement(key: str, key_type: str, direction: str) -> str:
    op = ">" if direction == "ASC" else "<"
    key_text = iso(key) if key_type == "timestamptz" else key
    return f"""
SELECT u.sync_version, s.item, s.k
FROM users u
LEFT JOIN LATERAL (
    SELECT {skill_json('x')} AS item, {key_text} AS k
    FROM skills x
    WHERE x.owner_id = u.id
      AND (%(category)s::text IS NULL OR x.category = %(category)s::text)
      AND (%(after_id)s::uuid IS NULL OR ({key}, x.id) {op} (%(after_value)s::{key_type}, %(after_id)s::uuid))
    ORDER BY {key} {direction}, x.id {direction}
    LIMIT %(limit)s
) s ON true
WHERE u.id = %(owner_id)s
"""


LIST_SKILLS = {name: _list_statement(key, key_type, direction) for name, (key, key_type, direction, _) in SORTS.items()}

GET_SKILL = f"""
SELECT u.sync_version,
       (SELECT {skill_json('x')} FROM skills x WHERE x.id = %(skill_id)s AND x.owner_id = u.id) AS item
FROM users u WHERE u.id = %(owner_id)s
"""

PROGRESS_JSON = (
    "jsonb_build_object('id', p.id, 'skill_id', p.skill_id, 'skill_name', k.name, 'category', k.category,"
    f" 'previous_level', p.previous_level, 'new_level', p.new_level, 'note', p.note,"
    " 'superseded', p.superseded,"
    f" 'created_at', {iso('p.created_at')})"
)
PROGRESS_PAGE = f"""
    SELECT {PROGRESS_JSON} AS item, {iso('p.created_at')} AS k
    FROM skill_progress p JOIN skills k ON k.id = p.skill_id
    WHERE p.owner_id = u.id AND {{where}}
      AND (%(after_id)s::bigint IS NULL OR (p.created_at, p.id) < (%(after_value)s::timestamptz, %(after_id)s::bigint))
    ORDER BY p.created_at DESC, p.id DESC
    LIMIT %(limit)s
"""
SKILL_PROGRESS = f"""
SELECT u.sync_version,
       EXISTS (SELECT 1 FROM skills k WHERE k.id = %(skill_id)s AND k.owner_id = u.id) AS found,
       s.item, s.k
FROM users u
LEFT JOIN LATERAL ({PROGRESS_PAGE.format(where="p.skill_id = %(skill_id)s")}) s ON true
WHERE u.id = %(owner_id)s
"""
_SINCE = "(%(since)s::timestamptz IS NULL OR p.created_at >= %(since)s::timestamptz)"
TIMELINE = f"""
SELECT u.sync_version, s.item, s.k
FROM users u
LEFT JOIN LATERAL ({PROGRESS_PAGE.format(where=_SINCE)}) s ON true
WHERE u.id = %(owner_id)s
"""

# The tail every skill write shares: bump the owner's version only if `{source}` produced a row (or
# the statement recorded a refused write as a conflict: `lost`), log the change (or the conflict), and
# report (new version, new JSON, change, JSON before, staleness, the conflict's change).
_BUMP_AND_LOG = """
ver AS (
    UPDATE users SET sync_version = sync_version + 1
    WHERE id = %(owner_id)s AND (EXISTS (SELECT 1 FROM {source}) OR EXISTS (SELECT 1 FROM lost))
    RETURNING id, username, sync_version
),
chg AS (
    INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
    SELECT ver.id, ver.sync_version, 'skill', {source}.id, '{op}', {data} FROM ver, {source}
    """ + CHANGE_RETURNING + """
),""" + CONFLICT_CTES + """
SELECT COALESCE(ver.sync_version, u.sync_version) AS sync_version, u.username,
       (SELECT data FROM chg) AS entity, (SELECT change FROM chg) AS change,
       {current} AS current, {stale} AS stale, (SELECT change FROM cchg) AS conflict_change{extra},
       """ + LIVE + """ AS live,
       """ + LIVE_CONNECTIONS + """
FROM users u LEFT JOIN ver ON ver.id = u.id
WHERE u.id = %(owner_id)s
"""
_CURRENT = f"(SELECT {skill_json('cur')} FROM cur)"
_LOCK_CURRENT = "cur AS (SELECT x.* FROM skills x WHERE x.id = %(skill_id)s AND x.owner_id = %(owner_id)s FOR UPDATE)"
# The write's preconditions, checked on the locked row: ``guard`` (the stored ``updated_at`` is not
# newer; the batch's last-write-wins and HTTP If-Unmodified-Since) and ``if_match`` (the stored
# entity's ETag is one of the client's).
_GUARD_OK = ("((%(guard)s::timestamptz IS NULL OR cur.updated_at <= %(guard)s::timestamptz)"
             f" AND (%(if_match)s::text[] IS NULL OR {etag_sql(skill_json('cur'))} = ANY(%(if_match)s::text[])))")
_STALE = f"(SELECT NOT {_GUARD_OK} FROM cur)"
# A refused write that the caller wants recorded (REST preconditions): the stored state won, the
# attempted one (``attempt`` merged over it; NULL for a delete) lost.
_LOST = f"""
lost AS (
    SELECT 'skill'::text AS entity, cur.id AS entity_id, {skill_json('cur')} AS winner,
           {skill_json('cur')} || %(attempt)s::jsonb AS loser
    FROM cur WHERE %(record_conflict)s AND NOT {_GUARD_OK} AND {LIVE}
),"""
_NO_LOSS = ("lost AS (SELECT NULL::text AS entity, NULL::uuid AS entity_id, NULL::jsonb AS winner,"
            " NULL::jsonb AS loser WHERE false),")
# A client-chosen id that is taken: by one of the owner's skills (a 409 naming ``id``), or by someone
# else's, which must look exactly like a skill that does not exist (``not_found``, nothing changed).
_ID_OWNED = (", EXISTS (SELECT 1 FROM skills k WHERE k.id = %(skill_id)s::uuid AND k.owner_id = %(owner_id)s)"
             " AS id_owned")

# ``existing_ok``: the id was derived from the request's Idempotency-Key, so a skill of the owner's
# with this id is what an earlier run of the same request created: answer with it ("unchanged").
_OWN_EXISTING = (f"CASE WHEN %(existing_ok)s THEN (SELECT {skill_json('k')} FROM skills k"
                 " WHERE k.id = %(skill_id)s::uuid AND k.owner_id = %(owner_id)s) END")

CREATE_SKILL = """
WITH """ + LIVE_SESSION + """,
ins AS (
    INSERT INTO skills (id, owner_id, name, category, level, description, goal_level, goal_date,
                        created_at, updated_at)
    SELECT COALESCE(%(skill_id)s::uuid, gen_random_uuid()), %(owner_id)s, %(name)s, %(category)s,
           %(level)s, %(description)s, %(goal_level)s::smallint, %(goal_date)s::date,
           COALESCE(%(updated_at)s::timestamptz, now()), COALESCE(%(updated_at)s::timestamptz, now())
    WHERE """ + LIVE + """
    ON CONFLICT (id) DO NOTHING
    RETURNING *
),
prog AS (
    INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, note)
    SELECT id, owner_id, NULL, level, %(note)s::text FROM ins
),""" + _NO_LOSS + _BUMP_AND_LOG.format(source="ins", op="upsert", data=skill_json("ins"), current=_OWN_EXISTING,
                                        stale="false", extra=_ID_OWNED)

# Goals (issue 17). A sent goal replaces the stored one whole (null clears it). The same goal sent
# again changes nothing and keeps its reached_at; a different one starts open. An open goal whose
# target the new level reaches is stamped reached by this statement (now(): the created_at of the
# history row it writes). Only this statement moves skills.level, and a superseded level (an offline
# edit that lost) is a history row only, so only a level the skill really had can reach a goal. A
# goal set at or below the level breaks skills_goal_above_level (migration 016): a 422, see _write.
# %(goal_reached_at)s: an import restoring a goal that was reached in the exported account.
_NEW_GOAL_LEVEL = "CASE WHEN %(set_goal)s THEN %(goal_level)s::smallint ELSE s.goal_level END"
_NEW_GOAL_DATE = "CASE WHEN %(set_goal)s THEN %(goal_date)s::date ELSE s.goal_date END"
_KEPT_GOAL_REACHED = (f"CASE WHEN NOT %(set_goal)s OR ({_NEW_GOAL_LEVEL}, {_NEW_GOAL_DATE})"
                      " IS NOT DISTINCT FROM (s.goal_level, s.goal_date) THEN s.goal_reached_at"
                      " ELSE %(goal_reached_at)s::timestamptz END")
_NEW_GOAL_REACHED = (f"CASE WHEN ({_KEPT_GOAL_REACHED}) IS NULL AND {_NEW_GOAL_LEVEL} IS NOT NULL"
                     f" AND COALESCE(%(level)s::smallint, s.level) >= {_NEW_GOAL_LEVEL}"
                     f" AND COALESCE(%(level)s::smallint, s.level) > s.level THEN now()"
                     f" ELSE {_KEPT_GOAL_REACHED} END")

UPDATE_SKILL = f"""
WITH {LIVE_SESSION}, {_LOCK_CURRENT},
upd AS (
    UPDATE skills s SET
        name = COALESCE(%(name)s::text, s.name),
        category = COALESCE(%(category)s::text, s.category),
        level = COALESCE(%(level)s::smallint, s.level),
        description = CASE WHEN %(set_description)s THEN %(description)s::text ELSE s.description END,
        goal_level = {_NEW_GOAL_LEVEL}, goal_date = {_NEW_GOAL_DATE},
        goal_reached_at = {_NEW_GOAL_REACHED},
        updated_at = COALESCE(%(updated_at)s::timestamptz, now())
    FROM cur
    WHERE s.id = cur.id AND {_GUARD_OK} AND {LIVE}
      AND (s.name, s.category, s.level, s.description, s.goal_level, s.goal_date) IS DISTINCT FROM (
          COALESCE(%(name)s::text, s.name), COALESCE(%(category)s::text, s.category),
          COALESCE(%(level)s::smallint, s.level),
          CASE WHEN %(set_description)s THEN %(description)s::text ELSE s.description END,
          {_NEW_GOAL_LEVEL}, {_NEW_GOAL_DATE})
    RETURNING s.*, cur.level AS previous_level,
              (s.goal_reached_at IS NOT NULL AND cur.goal_reached_at IS NULL
               AND %(goal_reached_at)s::timestamptz IS NULL) AS goal_reached
),
prog AS (
    INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, note)
    SELECT id, owner_id, previous_level, level, %(note)s::text FROM upd WHERE level <> previous_level
),""" + _LOST + _BUMP_AND_LOG.format(source="upd", op="upsert", data=skill_json("upd"), current=_CURRENT,
                                     stale=_STALE, extra=", (SELECT goal_reached FROM upd) AS goal_reached")

DELETE_SKILL = f"""
WITH {LIVE_SESSION}, {_LOCK_CURRENT},
del AS (
    DELETE FROM skills s USING cur WHERE s.id = cur.id AND {_GUARD_OK} AND {LIVE}
    RETURNING s.id
),""" + _LOST + _BUMP_AND_LOG.format(source="del", op="delete", data="NULL::jsonb", current=_CURRENT,
                                     stale=_STALE, extra="")


def _owner_version(rows: list[Row]) -> int:
    """The caller's sync version from a read's rows; no row means the account no longer exists."""
    if not rows:
        raise UnauthorizedError("the account behind this token no longer exists")
    return int(rows[0]["sync_version"])


def list_skills(conn: psycopg.Connection, owner_id: uuid.UUID, *, category: str | None = None,
                sort: str = "name", limit: int = 20, cursor: str | None = None) -> tuple[int, dict[str, Any]]:
    """``(sync_version, {"items", "next_cursor"})``: one page of the owner's skills, keyset-paginated."""
    key_parser = SORTS[sort][3]
    after_value, after_id = decode_cursor(cursor, sort, key_parser, uuid.UUID)
    params = {"owner_id": owner_id, "category": category, "after_value": after_value, "after_id": after_id,
              "limit": limit + 1}
    rows = conn.execute(LIST_SKILLS[sort], params).fetchall()
    return _owner_version(rows), page([r for r in rows if r["item"] is not None], limit, sort)


def get_skill(conn: psycopg.Connection, owner_id: uuid.UUID, skill_id: uuid.UUID) -> tuple[int, Row | None]:
    """``(sync_version, skill JSON or None)``; another owner's skill is None, exactly like a missing one."""
    rows = conn.execute(GET_SKILL, {"owner_id": owner_id, "skill_id": skill_id}).fetchall()
    return _owner_version(rows), rows[0]["item"]


def skill_progress(conn: psycopg.Connection, owner_id: uuid.UUID, skill_id: uuid.UUID, *, limit: int = 20,
                   cursor: str | None = None) -> tuple[int, dict[str, Any] | None]:
    """``(sync_version, page or None when the skill is not the owner's)``, newest first."""
    after_value, after_id = decode_cursor(cursor, "progress", _timestamp, _bounded_int(1, 2**62))
    params = {"owner_id": owner_id, "skill_id": skill_id, "after_value": after_value, "after_id": after_id,
              "limit": limit + 1}
    rows = conn.execute(SKILL_PROGRESS, params).fetchall()
    version = _owner_version(rows)
    if not rows[0]["found"]:
        return version, None
    return version, page([r for r in rows if r["item"] is not None], limit, "progress")


def timeline(conn: psycopg.Connection, owner_id: uuid.UUID, *, since: datetime | None = None, limit: int = 20,
             cursor: str | None = None) -> tuple[int, dict[str, Any]]:
    """``(sync_version, page)`` of level changes across all the owner's skills, newest first."""
    after_value, after_id = decode_cursor(cursor, "progress", _timestamp, _bounded_int(1, 2**62))
    params = {"owner_id": owner_id, "since": since, "after_value": after_value, "after_id": after_id,
              "limit": limit + 1}
    rows = conn.execute(TIMELINE, params).fetchall()
    return _owner_version(rows), page([r for r in rows if r["item"] is not None], limit, "progress")


_NO_PRECONDITION = {"existing_ok": False, "guard": None, "if_match": None, "attempt": None,
                    "record_conflict": False, "op_id": None, "source": "rest", "set_goal": False,
                    "goal_level": None, "goal_date": None, "goal_reached_at": None}


def _goal_params(goal: dict[str, Any] | Any | None) -> dict[str, Any]:
    """``goal_level``/``goal_date`` from a goal (a ``GoalSet`` or its JSON), both None for no goal."""
    if goal is None:
        return {"goal_level": None, "goal_date": None}
    if not isinstance(goal, dict):
        goal = goal.as_json()
    return {"goal_level": int(goal["target_level"]), "goal_date": goal["target_date"]}


def _write(conn: psycopg.Connection, statement: str, params: dict[str, Any]) -> WriteResult:
    """Run one write statement; a duplicate name (or own id) is a 409 naming the field."""
    import psycopg

    params = {**_NO_PRECONDITION, **session_params(), **params}
    try:
        row = conn.execute(statement, params).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise _duplicate("name" if "skills_owner_name_key" in str(exc) else "id") from exc
    except psycopg.errors.ForeignKeyViolation as exc:
        raise UnauthorizedError("the account behind this token no longer exists") from exc
    except psycopg.errors.CheckViolation as exc:
        if "skills_goal_above_level" not in str(exc):
            raise
        message = N_("must be above the skill's level (a goal at or below it is already met)")
        raise ValidationFailedError("invalid input: {field} {reason}", params={
            "field": "body.goal.target_level", "reason": message}, details=[
            {"field": "body.goal.target_level", "message": message, "type": "goal_not_above_level"}]) from exc
    if row is not None and row.get("id_owned") and row.get("live") and not params.get("existing_ok"):
        raise _duplicate("id")
    return write_result(row)


def _duplicate(field: str) -> ConflictError:
    details = [{"field": f"body.{field}", "message": N_("already exists"), "type": "unique"}]
    return ConflictError("a skill with this {field} already exists", details=details, params={"field": field})


def create_skill(conn: psycopg.Connection, owner_id: uuid.UUID, *, name: str, category: str, level: int,
                 description: str | None = None, note: str | None = None, skill_id: uuid.UUID | None = None,
                 updated_at: datetime | None = None, existing_ok: bool = False,
                 goal: dict[str, Any] | Any | None = None) -> WriteResult:
    """Insert a skill with its first history row (previous level NULL); status ``applied``.

    ``skill_id``: a client-generated id (offline creation); ``updated_at``: the client's clock.
    Raises ConflictError on a duplicate name (case-insensitive) or an id of the owner's; an id of
    another user's skill is ``not_found``, the answer for a skill that does not exist. With
    ``existing_ok`` (an id derived from an Idempotency-Key) the owner's skill with that id is the
    answer, status ``unchanged``. ``goal``: ``{"target_level", "target_date"}`` (or a ``GoalSet``),
    the target above ``level`` (else a 422).
    """
    params = {"owner_id": owner_id, "skill_id": skill_id, "name": name, "category": str(category),
              "level": level, "description": description, "note": note, "updated_at": updated_at,
              "existing_ok": existing_ok, **_goal_params(goal)}
    return _write(conn, CREATE_SKILL, params)


def update_skill(conn: psycopg.Connection, owner_id: uuid.UUID, skill_id: uuid.UUID, changes: dict[str, Any], *,
                 note: str | None = None, updated_at: datetime | None = None,
                 if_unmodified_since: datetime | None = None, if_match: list[str] | None = None,
                 record_conflict: bool = False, goal_reached_at: datetime | None = None) -> WriteResult:
    """Apply ``changes`` (a subset of name/category/level/description/goal; present key = set it;
    ``goal``: ``{"target_level", "target_date"}`` replaces the goal, None clears it).

    A level change writes a history row (previous, new, ``note``) in the same statement. Values equal
    to the stored ones → ``unchanged``; ``if_unmodified_since`` older than the stored ``updated_at``,
    or ``if_match`` (ETags) not holding the stored entity's → ``stale`` with the stored state, and
    with ``record_conflict`` the refusal is logged as a conflict (``WriteResult.conflict``) by the
    same statement. Raises ConflictError on a duplicate name, ValidationFailedError (422) on a goal
    not above the level. A level change that reaches the goal stamps it reached
    (``WriteResult.goal_reached``). ``goal_reached_at`` (imports only): the new goal was already
    reached then, in the account it was exported from.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    from psycopg.types.json import Jsonb

    params = {"owner_id": owner_id, "skill_id": skill_id, "note": note, "updated_at": updated_at,
              "guard": if_unmodified_since, "if_match": if_match, "record_conflict": record_conflict,
              "attempt": Jsonb(changes), "set_description": "description" in changes,
              **{field: None for field in EDITABLE}, **changes, "set_goal": "goal" in changes,
              **_goal_params(changes.get("goal")), "goal_reached_at": goal_reached_at}
    del params["goal"]
    if params["category"] is not None:
        params["category"] = str(params["category"])
    return _write(conn, UPDATE_SKILL, params)


def delete_skill(conn: psycopg.Connection, owner_id: uuid.UUID, skill_id: uuid.UUID, *,
                 if_unmodified_since: datetime | None = None, if_match: list[str] | None = None,
                 record_conflict: bool = False) -> WriteResult:
    """Delete a skill (its history goes with it) and log a tombstone; ``not_found``/``stale`` change
    nothing (but a recorded conflict, as in ``update_skill``)."""
    params = {"owner_id": owner_id, "skill_id": skill_id, "guard": if_unmodified_since, "if_match": if_match,
              "record_conflict": record_conflict}
    return _write(conn, DELETE_SKILL, params)
