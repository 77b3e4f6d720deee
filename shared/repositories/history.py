"""SQL for growth over time: a user's level history, the one source of the past character sheet.

Nothing is stored twice: the past is read from ``skill_progress`` (every level a skill took, with
when the server recorded it), never from a snapshot table. A row the offline batch kept as
``superseded`` (a level that lost a conflict and was never the skill's level) is left out. One
statement, reading only that user's rows through ``skill_progress_owner_idx (owner_id, created_at)``:
the cost is the user's own history, whatever the size of the table.

Days and weeks are the user's own (``users.timezone``): ``until`` is the end of the given local date,
and a week runs Monday 00:00 to the next Monday 00:00 local time; Postgres computes those instants
so the statement and its cut agree to the microsecond.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING

from shared.core.errors import UnauthorizedError
from shared.repositories.sql import Row

if TYPE_CHECKING:
    import psycopg

# The user's timezone, the end instant of each local week from the week of %(first)s to the week of
# %(last)s (one for %(first)s = %(last)s and no weeks: the end of that day), and the level changes
# recorded before the last of them, oldest first.
HISTORY = """
WITH me AS (SELECT id, sync_version, timezone FROM users WHERE id = %(owner_id)s),
ends AS (
    SELECT CASE WHEN %(weekly)s
                THEN ARRAY(SELECT (monday + interval '7 days') AT TIME ZONE me.timezone
                           FROM generate_series(date_trunc('week', %(first)s::date::timestamp),
                                                date_trunc('week', %(last)s::date::timestamp),
                                                interval '7 days') AS monday)
                ELSE ARRAY[(%(last)s::date + 1)::timestamp AT TIME ZONE me.timezone] END AS ends
    FROM me
)
SELECT me.sync_version, me.timezone, ends.ends, h.skill_id, h.category, h.level, h.at
FROM me CROSS JOIN ends
LEFT JOIN LATERAL (
    SELECT p.skill_id, k.category, p.new_level AS level, p.created_at AS at
    FROM skill_progress p JOIN skills k ON k.id = p.skill_id
    WHERE p.owner_id = me.id AND NOT p.superseded AND p.created_at < ends.ends[cardinality(ends.ends)]
    ORDER BY p.created_at, p.id
) h ON true
"""


def level_history(conn: psycopg.Connection, owner_id: uuid.UUID, first: date, last: date, *,
                  weekly: bool) -> tuple[int, Row, list[Row]]:
    """``(sync_version, {"timezone", "ends"}, changes)``: ``ends`` are the instants the sheet is read at
    (the end of each local week from ``first``'s to ``last``'s when ``weekly``, else the end of the
    local day ``last``); ``changes`` are ``{skill_id, category, level, at}`` before the last end, oldest first.
    """
    rows = conn.execute(HISTORY, {"owner_id": owner_id, "first": first, "last": last, "weekly": weekly}).fetchall()
    if not rows:
        raise UnauthorizedError("the account behind this token no longer exists")
    head = {"timezone": rows[0]["timezone"], "ends": rows[0]["ends"]}
    return int(rows[0]["sync_version"]), head, [r for r in rows if r["skill_id"] is not None]
