"""SQL for delta sync: the change log after a version, or a full snapshot; and log compaction.

``read`` is one statement (one round trip) that decides between the two modes from the user's
row and returns everything from the same MVCC snapshot, so the version it reports always matches
the changes or the snapshot it returns.

Versions: every mutation increments ``users.sync_version`` and appends ``changes`` row(s) with
that version. ``users.changes_compacted_before`` = F means versions below F were deleted. A client
at version ``since`` needs versions ``since+1 …``; the log has them iff ``since + 1 >= F``, so a
snapshot is sent exactly when ``since + 1 < F`` (or when the client has no version at all).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from shared.repositories.achievements import achievement_json
from shared.repositories.conflicts import conflict_json
from shared.repositories.sql import profile_json, skill_json

if TYPE_CHECKING:
    import psycopg

Row = dict[str, Any]

# The snapshot uses the skills and profile repositories' JSON builders and GET /skills' default order
# (name, case-insensitive, then id), so a snapshot equals what the list endpoints return.
CHANGE_COLUMNS = "version, entity, entity_id, op, data, created_at"

READ = f"""
WITH u AS (
    SELECT id, sync_version, changes_compacted_before,
           (%(since)s::bigint IS NULL OR %(since)s::bigint + 1 < changes_compacted_before) AS snapshot
    FROM users WHERE id = %(user_id)s
)
SELECT u.sync_version AS version,
       CASE WHEN u.snapshot THEN 'snapshot' ELSE 'changes' END AS mode,
       CASE WHEN u.snapshot THEN (
           SELECT coalesce(jsonb_agg({skill_json('s')} ORDER BY lower(s.name), s.id), '[]'::jsonb)
           FROM skills s WHERE s.owner_id = u.id
       ) END AS skills,
       CASE WHEN u.snapshot THEN (SELECT {profile_json('p')} FROM users p WHERE p.id = u.id) END AS profile,
       CASE WHEN u.snapshot THEN (
           SELECT coalesce(jsonb_agg({conflict_json('x')} ORDER BY x.id), '[]'::jsonb)
           FROM sync_conflicts x WHERE x.owner_id = u.id AND x.acked_at IS NULL
       ) END AS conflicts,
       CASE WHEN u.snapshot THEN (
           SELECT coalesce(jsonb_agg({achievement_json('a')} ORDER BY a.awarded_at, a.code), '[]'::jsonb)
           FROM user_achievements a WHERE a.user_id = u.id
       ) END AS achievements,
       CASE WHEN NOT u.snapshot THEN (
           SELECT coalesce(json_agg(c ORDER BY c.version), '[]'::json)
           FROM (SELECT {CHANGE_COLUMNS} FROM changes
                 WHERE owner_id = u.id AND version > %(since)s::bigint
                 ORDER BY version LIMIT %(limit)s) c
       ) END AS changes
FROM u
"""

# Keep the last ``keep`` versions of the log; everything older goes, and the floor moves up so
# clients behind it get a snapshot. The floor never moves down.
COMPACT = """
WITH u AS (
    UPDATE users
    SET changes_compacted_before = greatest(changes_compacted_before, sync_version - %(keep)s + 1)
    WHERE id = %(user_id)s
    RETURNING id, changes_compacted_before
), gone AS (
    DELETE FROM changes c USING u
    WHERE c.owner_id = u.id AND c.version < u.changes_compacted_before
    RETURNING 1
)
SELECT u.changes_compacted_before AS compacted_before, (SELECT count(*) FROM gone) AS deleted FROM u
"""

# The scheduled compaction: the same rule as COMPACT for every user whose log holds more than
# ``keep`` versions (it holds max(F, 1) … sync_version), one statement per page of users. Users are
# walked in id order after ``after`` through a window of at most ``scan`` users (a primary-key range
# scan), so a statement reads a bounded number of rows however few users are due and however many
# users there are (issue 14: the unbounded search for ``users`` due users read 10^6 rows at 1M users
# for 2 s). Of the window, up to ``users`` due users are compacted; each statement moves a user's
# floor up by at most ``step`` versions (one ``changes`` row per version), so it deletes at most
# ``users`` x ``step`` rows and holds those users' rows (which every write of theirs updates) only
# briefly. The floor never moves down, even against a concurrent compaction (``greatest`` re-reads
# the locked row). Not an index on the log length: it would have to include sync_version, which every
# write updates, and turn each write's users UPDATE from HOT into one that rewrites every users index.
# ``resume_after``: where the next page starts — before the first user this page did not finish,
# else after the last due user taken (a full page) or after the window. ``more``: not at the end yet.
COMPACT_DUE = """
WITH win AS (
    SELECT id, sync_version, changes_compacted_before FROM users
    WHERE id > %(after)s ORDER BY id LIMIT %(scan)s
), due AS (
    SELECT id, sync_version - %(keep)s + 1 AS target FROM win
    WHERE sync_version - %(keep)s + 1 > greatest(changes_compacted_before, 1)
    ORDER BY id LIMIT %(users)s
), moved AS (
    UPDATE users u
    SET changes_compacted_before = greatest(u.changes_compacted_before,
                                            least(d.target, greatest(u.changes_compacted_before, 1) + %(step)s))
    FROM due d WHERE u.id = d.id
    RETURNING u.id, u.changes_compacted_before AS floor, d.target
), gone AS (
    DELETE FROM changes c USING moved m
    WHERE c.owner_id = m.id AND c.version < m.floor
    RETURNING 1
), unfinished AS (  -- (no min()/max() for uuid before Postgres 16)
    SELECT (SELECT id FROM moved WHERE floor < target ORDER BY id LIMIT 1) AS first
), counts AS (
    SELECT (SELECT count(*) FROM win) AS scanned, (SELECT count(*) FROM due) AS users
)
SELECT counts.users, (SELECT count(*) FROM gone) AS deleted,
       (SELECT count(*) FROM moved WHERE floor >= target) AS finished,
       x.first IS NOT NULL AS unfinished,
       x.first IS NOT NULL OR counts.users >= %(users)s OR counts.scanned >= %(scan)s AS more,
       coalesce(CASE WHEN x.first IS NOT NULL THEN
                         (SELECT m.id FROM moved m WHERE m.id < x.first ORDER BY m.id DESC LIMIT 1)
                     WHEN counts.users >= %(users)s THEN (SELECT id FROM due ORDER BY id DESC LIMIT 1)
                     ELSE (SELECT id FROM win ORDER BY id DESC LIMIT 1) END,
                %(after)s) AS resume_after
FROM counts, unfinished x
"""


def read(conn: psycopg.Connection, user_id: uuid.UUID, since: int | None, limit: int) -> Row | None:
    """``{"version", "mode", "skills", "profile", "conflicts", "achievements", "changes"}`` (JSON fields
    decoded), None if no user. A snapshot carries the pending (unacknowledged) conflicts and every award.

    In ``changes`` mode at most ``limit`` changes are returned, in version order.
    """
    return conn.execute(READ, {"user_id": user_id, "since": since, "limit": limit}).fetchone()


def compact(conn: psycopg.Connection, user_id: uuid.UUID, keep: int) -> Row | None:
    """Delete all but the last ``keep`` versions of the user's log: ``{"compacted_before", "deleted"}``."""
    return conn.execute(COMPACT, {"user_id": user_id, "keep": max(0, keep)}).fetchone()


def compact_due(conn: psycopg.Connection, *, keep: int, after: uuid.UUID, users: int, step: int,
                scan: int = 5000) -> Row:
    """One page of the all-users compaction: ``{"users", "deleted", "finished", "unfinished", "more",
    "resume_after"}`` (``users``: due users taken; ``finished``: users whose log is now down to
    ``keep`` versions). Reads at most ``scan`` users. Done when ``more`` is false.
    """
    params = {"keep": max(0, keep), "after": after, "users": users, "step": max(1, step), "scan": max(1, scan)}
    row = conn.execute(COMPACT_DUE, params).fetchone()
    assert row is not None
    return row
