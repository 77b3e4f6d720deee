"""SQL for skill goals (issue 17): ``GET /me/goals``, and what a write did to a goal.

A goal lives on its skill (migration 016), so setting, clearing and reaching one are skill writes
(``repositories.skills``). Here: the owner's goals in keyset pages of ``(target_date, skill id)``
over ``skills_goals_idx``, each judged against *today in the user's time zone* by the same statement
that reads them (no second round trip, and the date and the statuses cannot disagree).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from shared.core.errors import UnauthorizedError
from shared.repositories.cursors import decode_cursor, encode_cursor
from shared.repositories.sql import Row, WriteResult, iso

if TYPE_CHECKING:
    import psycopg

DUE_SOON_DAYS = 7  # "due soon": target_date within the next 7 days, today included
CURSOR_KIND = "goals"


def status_sql(alias: str, today: str) -> str:
    """A goal's status on the date ``today`` (a SQL date expression); one definition for the API and
    the digest."""
    a = alias
    return (f"CASE WHEN {a}.goal_reached_at IS NOT NULL THEN 'reached'"
            f" WHEN {a}.goal_date < {today} THEN 'overdue'"
            f" WHEN {a}.goal_date < {today} + {DUE_SOON_DAYS} THEN 'due_soon' ELSE 'open' END")


LIST_GOALS = f"""
SELECT u.sync_version, t.today, g.item, g.k, g.id
FROM users u
CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE u.timezone)::date AS today) t
LEFT JOIN LATERAL (
    SELECT jsonb_build_object('skill_id', x.id, 'skill_name', x.name, 'category', x.category, 'level', x.level,
                              'target_level', x.goal_level, 'target_date', to_char(x.goal_date, 'YYYY-MM-DD'),
                              'reached_at', {iso('x.goal_reached_at')}, 'status', {status_sql('x', 't.today')},
                              'days_left', x.goal_date - t.today) AS item,
           to_char(x.goal_date, 'YYYY-MM-DD') AS k, x.id
    FROM skills x
    WHERE x.owner_id = u.id AND x.goal_level IS NOT NULL
      AND (%(after_id)s::uuid IS NULL OR (x.goal_date, x.id) > (%(after_date)s::date, %(after_id)s::uuid))
    ORDER BY x.goal_date, x.id
    LIMIT %(limit)s
) g ON true
WHERE u.id = %(owner_id)s
"""


def list_goals(conn: psycopg.Connection, owner_id: uuid.UUID, *, limit: int = 20,
               cursor: str | None = None) -> tuple[int, dict[str, Any]]:
    """``(sync_version, {"today", "items", "next_cursor"})``: one page of the owner's goals, soonest
    target date first (reached ones included, with their status), in one statement."""
    after_date, after_id = decode_cursor(cursor, CURSOR_KIND, date.fromisoformat, uuid.UUID)
    params = {"owner_id": owner_id, "after_date": after_date, "after_id": after_id, "limit": limit + 1}
    rows = conn.execute(LIST_GOALS, params).fetchall()
    if not rows:
        raise UnauthorizedError("the account behind this token no longer exists")
    found = [row for row in rows if row["item"] is not None]
    shown = found[:limit]
    more = len(found) > limit
    return int(rows[0]["sync_version"]), {
        "today": rows[0]["today"].isoformat(),
        "items": [row["item"] for row in shown],
        "next_cursor": encode_cursor(CURSOR_KIND, shown[-1]["k"], shown[-1]["id"]) if more else None,
    }


def goals_reached_by(result: WriteResult) -> list[Row]:
    """The goals a skill write reached: ``[{"skill_id", "target_level", "target_date", "reached_at"}]``.

    For the achievements the lead wires in at merge (a "goal reached" award): call it with the
    ``WriteResult`` of any skill write (REST, offline batch). Only a level change that really
    applied can reach a goal (the write statement decides, on the locked row), so a superseded or
    refused level, a replayed operation (its stored result, no write) or a re-sent goal give ``[]``.
    """
    if result.status != "applied" or not result.goal_reached or not result.entity:
        return []
    goal = result.entity.get("goal") or {}
    return [{"skill_id": result.entity["id"], **goal}]


COUNT_REACHED = ("SELECT count(*) AS n FROM skills WHERE owner_id = %(owner_id)s AND goal_level IS NOT NULL"
                 " AND goal_reached_at IS NOT NULL")


def reached_count(conn: psycopg.Connection, owner_id: uuid.UUID) -> int:
    """How many of the owner's goals stand reached (for a backfill or an "N goals" rule); O(the
    user's skills with a goal) over ``skills_goals_idx``."""
    return int(conn.execute(COUNT_REACHED, {"owner_id": owner_id}).fetchone()["n"])
