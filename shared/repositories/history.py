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

# One row: the user's timezone; for a weekly read, the local Monday of each week from the week of
# %(first)s to the week of %(last)s, else one day; ``ends``, the instant each of them ends (the next
# local midnight, in microseconds since the epoch); and ``changes``, every level recorded before the
# last end, oldest first, as [skill id, category, level, microseconds] (one JSON array: the rows of
# a long history cost one value to decode, not thousands of rows).
HISTORY = """
WITH me AS (SELECT id, sync_version, timezone FROM users WHERE id = %(owner_id)s),
days AS MATERIALIZED (
    SELECT CASE WHEN %(weekly)s
                THEN ARRAY(SELECT monday::date FROM generate_series(date_trunc('week', %(first)s::date::timestamp),
                                                                    date_trunc('week', %(last)s::date::timestamp),
                                                                    interval '7 days') AS monday)
                ELSE ARRAY[%(last)s::date] END AS days
),
ends AS MATERIALIZED (
    SELECT days.days, ARRAY(SELECT (extract(epoch FROM (d + CASE WHEN %(weekly)s THEN 7 ELSE 1 END)::timestamp
                                                      AT TIME ZONE me.timezone) * 1000000)::bigint
                            FROM unnest(days.days) AS d ORDER BY d) AS ends
    FROM me, days
)
SELECT me.sync_version, me.timezone, ends.days, ends.ends,
       (SELECT COALESCE(jsonb_agg(jsonb_build_array(p.skill_id, k.category, p.new_level,
                                                    (extract(epoch FROM p.created_at) * 1000000)::bigint)
                                  ORDER BY p.created_at, p.id), '[]'::jsonb)
        FROM skill_progress p JOIN skills k ON k.id = p.skill_id
        WHERE p.owner_id = me.id AND NOT p.superseded
          AND p.created_at < to_timestamp(ends.ends[cardinality(ends.ends)] / 1000000.0)) AS changes
FROM me CROSS JOIN ends
"""


def level_history(conn: psycopg.Connection, owner_id: uuid.UUID, first: date, last: date, *,
                  weekly: bool) -> tuple[int, Row, list[list]]:
    """``(sync_version, {"timezone", "days", "ends"}, changes)``: ``days`` are the local Mondays of the
    weeks from ``first``'s to ``last``'s when ``weekly``, else ``[last]``; ``ends`` the instants each
    ends (µs since the epoch); ``changes`` ``[skill_id, category, level, µs]`` before the last end, oldest first.
    """
    row = conn.execute(HISTORY, {"owner_id": owner_id, "first": first, "last": last, "weekly": weekly}).fetchone()
    if row is None:
        raise UnauthorizedError("the account behind this token no longer exists")
    head = {"timezone": row["timezone"], "days": row["days"], "ends": row["ends"]}
    return int(row["sync_version"]), head, row["changes"]
