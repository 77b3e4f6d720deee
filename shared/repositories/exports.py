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
                                'resolution', c.resolution, 'winner', c.winner, 'loser', c.loser,
                                'created_at', {iso('c.created_at')}) AS item
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
