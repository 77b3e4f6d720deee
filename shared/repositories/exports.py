"""SQL for "leave with your data" (issue 15): the account's export, read in keyset pages.

Each page is one statement over an index that starts at the user (skills by id, history and
conflicts by id), so an export of any size costs pages, never one giant result held in memory.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from shared.repositories.sql import iso, profile_json, skill_json

Row = dict[str, Any]

PROFILE = f"SELECT {profile_json('u')} AS profile, u.sync_version FROM users u WHERE u.id = %(user_id)s"

SKILLS = f"""
SELECT s.id, {skill_json('s')} AS item FROM skills s
WHERE s.owner_id = %(user_id)s AND s.id > %(after)s
ORDER BY s.id LIMIT %(limit)s
"""

# The full level history, superseded levels (lost offline conflicts) included.
HISTORY = f"""
SELECT p.id, jsonb_build_object('id', p.id, 'skill_id', p.skill_id, 'skill', s.name, 'category', s.category,
                                'previous_level', p.previous_level, 'new_level', p.new_level, 'note', p.note,
                                'superseded', p.superseded, 'created_at', {iso('p.created_at')}) AS item
FROM skill_progress p JOIN skills s ON s.id = p.skill_id
WHERE p.owner_id = %(user_id)s AND p.id > %(after)s
ORDER BY p.id LIMIT %(limit)s
"""

CONFLICTS = f"""
SELECT c.id, jsonb_build_object('id', c.id, 'entity', c.entity, 'entity_id', c.entity_id, 'op_id', c.op_id,
                                'source', c.source, 'resolution', c.resolution, 'winner', c.winner,
                                'loser', c.loser, 'created_at', {iso('c.created_at')},
                                'acked_at', {iso('c.acked_at')}) AS item
FROM sync_conflicts c
WHERE c.owner_id = %(user_id)s AND c.id > %(after)s
ORDER BY c.id LIMIT %(limit)s
"""

SESSIONS = f"""
SELECT jsonb_build_object('id', f.id, 'device_name', f.device_name, 'ip_prefix', f.ip_prefix,
                          'created_at', {iso('f.created_at')}, 'last_used_at', {iso('f.last_used_at')},
                          'revoked_at', {iso('f.revoked_at')}) AS item
FROM refresh_families f WHERE f.user_id = %(user_id)s ORDER BY f.created_at, f.id
"""

PAGES = {"skills": (SKILLS, uuid.UUID(int=0)), "history": (HISTORY, 0), "conflicts": (CONFLICTS, 0)}


def profile(conn: psycopg.Connection, user_id: uuid.UUID) -> Row | None:
    return conn.execute(PROFILE, {"user_id": user_id}).fetchone()


def page(conn: psycopg.Connection, section: str, user_id: uuid.UUID, after: Any, limit: int) -> list[Row]:
    """``[{"id", "item"}]``: the next page of ``section`` ("skills", "history", "conflicts") after ``after``."""
    sql, first = PAGES[section]
    return conn.execute(sql, {"user_id": user_id, "after": first if after is None else after,
                              "limit": limit}).fetchall()


SKILL_IDS = "SELECT id FROM skills WHERE owner_id = %(user_id)s"


def skill_ids(conn: psycopg.Connection, user_id: uuid.UUID) -> set[uuid.UUID]:
    return {row["id"] for row in conn.execute(SKILL_IDS, {"user_id": user_id}).fetchall()}


def sessions(conn: psycopg.Connection, user_id: uuid.UUID) -> list[Row]:
    return [row["item"] for row in conn.execute(SESSIONS, {"user_id": user_id}).fetchall()]


# Import (issue 15). The level history keeps its dates: the replayed rows of an account that was empty
# are the owner's rows in id order, and the n-th gets the n-th time given (NULL: a row the import made
# up, which keeps its own). One statement over the owner's rows (O(that user)).
RESTAMP_HISTORY = """
UPDATE skill_progress p SET created_at = t.created_at
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM skill_progress WHERE owner_id = %(owner_id)s) r
JOIN unnest(%(times)s::timestamptz[]) WITH ORDINALITY AS t(created_at, n) ON t.n = r.n
WHERE p.id = r.id AND t.created_at IS NOT NULL
"""

# Conflicts come in as the record they are: resolved, and acknowledged (the devices that took part
# belong to the old account), so no device is asked about them again and the change log stays quiet.
IMPORT_CONFLICTS = """
INSERT INTO sync_conflicts (owner_id, entity, entity_id, op_id, source, resolution, winner, loser, created_at,
                            acked_at)
SELECT %(owner_id)s, x.entity, x.entity_id, x.op_id, x.source, x.resolution, x.winner, x.loser,
       coalesce(x.created_at, now()), coalesce(x.acked_at, now())
FROM jsonb_to_recordset(%(rows)s) AS x(entity text, entity_id uuid, op_id text, source text, resolution text,
                                       winner jsonb, loser jsonb, created_at timestamptz, acked_at timestamptz)
"""


def restamp_history(conn: psycopg.Connection, owner_id: uuid.UUID, times: list[Any]) -> int:
    """Give the owner's n-th history row the n-th of ``times`` (None leaves it); how many changed."""
    return conn.execute(RESTAMP_HISTORY, {"owner_id": owner_id, "times": times}).rowcount


def import_conflicts(conn: psycopg.Connection, owner_id: uuid.UUID, rows: list[Row]) -> int:
    """Insert ``rows`` (entity, entity_id, op_id, source, resolution, winner, loser, created_at,
    acked_at) as the owner's acknowledged conflicts; how many."""
    if not rows:
        return 0
    from psycopg.types.json import Jsonb

    return conn.execute(IMPORT_CONFLICTS, {"owner_id": owner_id, "rows": Jsonb(rows)}).rowcount


# How big the export of an account will be, roughly, from its row counts and the free text in them:
# one statement over the owner's indexed rows, so GET /me/export can decide between answering inline
# and handing the document over through the bucket before producing it.
ESTIMATE = """
SELECT (SELECT count(*) * 320 + coalesce(sum(octet_length(coalesce(description, '')) + octet_length(name)), 0)
        FROM skills WHERE owner_id = %(user_id)s)
     + (SELECT count(*) * 300 + coalesce(sum(octet_length(coalesce(note, ''))), 0)
        FROM skill_progress WHERE owner_id = %(user_id)s)
     + (SELECT count(*) * 300 + coalesce(sum(octet_length(coalesce(winner::text, ''))
                                             + octet_length(coalesce(loser::text, ''))), 0)
        FROM sync_conflicts WHERE owner_id = %(user_id)s)
     + 4096 AS bytes
"""


def estimated_bytes(conn: psycopg.Connection, user_id: uuid.UUID) -> int:
    """About how many bytes the JSON export of the user holds (an over-estimate for short texts)."""
    row = conn.execute(ESTIMATE, {"user_id": user_id}).fetchone()
    return int(row["bytes"]) if row else 0
