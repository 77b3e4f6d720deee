"""SQL for achievements: awarding (inside a skill write, or on its own), reading, rarity, backfill.

Exactly once, in the database: an award is ``INSERT … ON CONFLICT ON CONSTRAINT user_achievements_once
DO NOTHING`` (primary key (user_id, code)), and only the rows that insert bump the owner's
``sync_version`` and append a change-log entry (``entity = 'achievement'``), so a retry, a replayed
batch or two devices at once award, log and push an achievement once.

Rules are data (``shared.models.achievements.CATALOGUE``: fact >= threshold), passed as arrays; the
facts are SQL over the user's own rows only — ``aw_skills`` (category, level of each skill) and
``aw_progress`` (the level history WITHOUT superseded rows: a level that lost a conflict never was
the skill's level, so it never awards). Because awards are never revoked, churn (1→10→1→10) awards
once. ``award_ctes`` is the evaluation as a CTE fragment for a write statement, over the state
AFTER the write: the rows the snapshot has, minus the row the write replaces, plus the written row
and its history row (data-modifying CTEs do not see each other's effects, so this is spelled out).

Locks: the owner's ``users`` row is locked (``aw_user``) after the write's own rows and before any
achievement is inserted, the order every writer uses, so awarding cannot deadlock, and one user's
awards are serialised. A statement whose snapshot predates a concurrent write of the same user
(the locked row's version differs from the snapshot's) reports ``recheck``: the caller runs
``award`` once more with a fresh snapshot, so an achievement that needs both writes is not missed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.models.achievements import CATALOGUE
from shared.repositories.sql import CHANGE_RETURNING, LIVE_CONNECTIONS, Row, iso

if TYPE_CHECKING:
    import psycopg

# A level-up, and "progress" for streaks: a history row that moved a skill up (or started one).
_UP = "previous_level IS NOT NULL AND new_level > previous_level"
_PROGRESS = "(previous_level IS NULL OR new_level > previous_level)"
_WEEK = "date_trunc('week', created_at AT TIME ZONE aw_user.timezone)::date"  # Monday, the user's timezone

# fact name → one number from the user's rows (evaluated in ``aw_facts``, FROM aw_user). A new kind of
# rule is one entry here, over ``aw_skills`` (category, level, goal_reached_at of each skill after the
# write) and ``aw_progress`` (previous_level, new_level, created_at), plus its catalogue entries.
FACTS: dict[str, str] = {
    "skills": "(SELECT count(*) FROM aw_skills)",
    "categories": "(SELECT count(DISTINCT category) FROM aw_skills)",
    "character_level": "(SELECT 1 + floor(sqrt(coalesce(sum(level), 0)))::int FROM aw_skills)",
    "top_level": "greatest((SELECT max(level) FROM aw_skills), (SELECT max(new_level) FROM aw_progress), 0)",
    "level_ups": f"(SELECT count(*) FROM aw_progress WHERE {_UP})",
    # Goals (migration 016): only a level the skill really had stamps goal_reached_at (never a superseded one).
    "goals_reached": "(SELECT count(*) FROM aw_skills WHERE goal_reached_at IS NOT NULL)",
    "best_week_level_ups": f"""(SELECT coalesce(max(n), 0) FROM (
        SELECT count(*) AS n FROM aw_progress WHERE {_UP} GROUP BY {_WEEK}) w)""",
    # Gaps and islands: consecutive weeks minus their rank are constant within a run.
    "week_streak": f"""(SELECT coalesce(max(n), 0) FROM (
        SELECT count(*) AS n FROM (
            SELECT week - (row_number() OVER (ORDER BY week))::int * 7 AS run
            FROM (SELECT DISTINCT {_WEEK} AS week FROM aw_progress WHERE {_PROGRESS}) weeks) r
        GROUP BY run) s)""",
}
_unknown = {a.fact for a in CATALOGUE} - set(FACTS)
assert not _unknown, f"catalogue rules on facts without SQL: {_unknown}"


def achievement_json(alias: str) -> str:
    """An award's JSON (``GET /me/achievements`` items, the change log's ``data``, the sync snapshot)."""
    a = alias
    return f"jsonb_build_object('id', {a}.public_id, 'code', {a}.code, 'awarded_at', {iso(f'{a}.awarded_at')})"


def rule_params() -> dict[str, Any]:
    """The catalogue's rules as the statement's arrays (codes, facts, thresholds)."""
    return {"aw_codes": [a.code for a in CATALOGUE], "aw_facts": [a.fact for a in CATALOGUE],
            "aw_thresholds": [a.threshold for a in CATALOGUE]}


def award_ctes(*, gate: str = "true", written: str | None = None, replaced: str = "NULL::uuid",
               history: str | None = None) -> str:
    """The awarding CTEs (``aw_user`` … ``aw``), ending with a comma. ``gate``: SQL that must hold
    (the write happened); ``written``: a CTE with the written skill row (category, level), which
    replaces the snapshot's row ``replaced`` (an id); ``history``: a CTE with the write's history
    row (previous_level, new_level, created_at). Needs ``%(owner_id)s`` and ``rule_params()``."""
    extra_skills = f" UNION ALL SELECT category, level, goal_reached_at FROM {written}" if written else ""
    extra_history = f" UNION ALL SELECT previous_level, new_level, created_at FROM {history}" if history else ""
    facts = ",\n           ".join(f"{sql} AS {name}" for name, sql in FACTS.items())
    return f"""
aw_user AS (
    SELECT id, timezone, sync_version FROM users WHERE id = %(owner_id)s AND {gate} FOR NO KEY UPDATE
),
aw_skills AS (
    SELECT category, level, goal_reached_at FROM skills
    WHERE owner_id = %(owner_id)s AND id IS DISTINCT FROM {replaced}{extra_skills}
),
aw_progress AS (
    SELECT previous_level, new_level, created_at FROM skill_progress
    WHERE owner_id = %(owner_id)s AND NOT superseded{extra_history}
),
aw_facts AS (
    SELECT {facts}
    FROM aw_user
),
aw AS (
    INSERT INTO user_achievements (user_id, code)
    SELECT aw_user.id, r.code
    FROM aw_user, aw_facts f,
         unnest(%(aw_codes)s::text[], %(aw_facts)s::text[], %(aw_thresholds)s::int[]) AS r(code, fact, threshold)
    WHERE (to_jsonb(f) ->> r.fact)::numeric >= r.threshold
    ORDER BY r.code
    ON CONFLICT ON CONSTRAINT user_achievements_once DO NOTHING
    RETURNING user_id, code, public_id, awarded_at
),"""


AWARD_COUNT = "(SELECT count(*) FROM aw)"
# Given ``ver(id, sync_version)`` bumped by ``AWARD_COUNT`` more than the write's own change: one
# change-log entry per new award, at the versions just below the new one, in code order.
AWARD_CHANGES = f"""
aw_chg AS (
    INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
    SELECT ver.id, ver.sync_version - {AWARD_COUNT} + row_number() OVER (ORDER BY aw.code),
           'achievement', aw.public_id, 'upsert', {achievement_json('aw')}
    FROM ver, aw
    {CHANGE_RETURNING}
)"""
# The write statement's extra columns: the award changes, and whether a concurrent write of the
# user's committed after this statement's snapshot (then its facts may be missing that write).
AWARD_COLUMNS = (", (SELECT coalesce(jsonb_agg(change ORDER BY (change->>'version')::bigint), '[]'::jsonb)"
                 " FROM aw_chg) AS awards,"
                 " coalesce((SELECT aw_user.sync_version <> s.sync_version FROM aw_user, users s"
                 " WHERE s.id = aw_user.id), false) AS recheck")

AWARD = f"""
WITH {award_ctes()}
ver AS (
    UPDATE users SET sync_version = sync_version + {AWARD_COUNT}
    WHERE id = %(owner_id)s AND EXISTS (SELECT 1 FROM aw)
    RETURNING id, username, sync_version
),
{AWARD_CHANGES}
SELECT u.username, COALESCE(ver.sync_version, u.sync_version) AS sync_version,
       (SELECT coalesce(jsonb_agg(change ORDER BY (change->>'version')::bigint), '[]'::jsonb) FROM aw_chg) AS awards,
       {LIVE_CONNECTIONS}
FROM users u LEFT JOIN ver ON ver.id = u.id
WHERE u.id = %(owner_id)s
"""

MINE = f"""
SELECT u.sync_version,
       (SELECT coalesce(jsonb_agg({achievement_json('a')} ORDER BY a.awarded_at DESC, a.code), '[]'::jsonb)
        FROM user_achievements a WHERE a.user_id = u.id) AS earned,
       (SELECT coalesce(jsonb_object_agg(r.code, round(100.0 * r.holders / r.users, 1))
                        FILTER (WHERE r.users > 0 AND r.holders >= %(min_holders)s), '{{}}'::jsonb)
        FROM achievement_rarity r) AS rarity
FROM users u WHERE u.id = %(owner_id)s
"""

# The rarity table from one pass over the (code) index and the users count: a row per code anyone
# holds (or held: it drops to 0), written only where the numbers moved, so the count it reports is
# "rarities that changed" and a second run the same day reports 0.
REFRESH_RARITY = """
WITH total AS (SELECT count(*)::int AS n FROM users),
held AS (SELECT code, count(*)::int AS n FROM user_achievements GROUP BY code),
src AS (
    SELECT code, n FROM held
    UNION ALL
    SELECT r.code, 0 FROM achievement_rarity r WHERE NOT EXISTS (SELECT 1 FROM held WHERE held.code = r.code)
)
INSERT INTO achievement_rarity AS r (code, holders, users, computed_at)
SELECT src.code, src.n, total.n, now() FROM src, total
ON CONFLICT (code) DO UPDATE SET holders = EXCLUDED.holders, users = EXCLUDED.users, computed_at = now()
    WHERE (r.holders, r.users) IS DISTINCT FROM (EXCLUDED.holders, EXCLUDED.users)
"""

# The backfill walk (a maintenance step): a window of ``limit`` users in primary-key order after the
# saved position (a bounded range scan however few are due), of which those created before the
# cutoff are awarded. The position moves only after their awards committed (``BACKFILL_ADVANCE``),
# so a run that dies re-awards a window (a no-op) rather than skipping one.
BACKFILL_PAGE = """
WITH b AS (SELECT resume_after, cutoff FROM achievement_backfill WHERE finished_at IS NULL),
win AS (
    SELECT u.id, u.created_at < b.cutoff AS due
    FROM b, LATERAL (SELECT id, created_at FROM users WHERE id > b.resume_after ORDER BY id LIMIT %(limit)s) u
)
SELECT EXISTS (SELECT 1 FROM b) AS pending, (SELECT count(*) FROM win) AS scanned,
       coalesce((SELECT array_agg(id ORDER BY id) FROM win WHERE due), ARRAY[]::uuid[]) AS users,
       (SELECT id FROM win ORDER BY id DESC LIMIT 1) AS last
"""
BACKFILL_ADVANCE = """
UPDATE achievement_backfill SET resume_after = greatest(resume_after, coalesce(%(last)s::uuid, resume_after)),
       finished_at = CASE WHEN %(finished)s THEN now() END
WHERE finished_at IS NULL
"""
# (Re)start the walk: every user created before ``cutoff`` (default now) is visited again.
BACKFILL_RESET = """
INSERT INTO achievement_backfill (id, cutoff) VALUES (true, coalesce(%(cutoff)s::timestamptz, now()))
ON CONFLICT (id) DO UPDATE SET cutoff = EXCLUDED.cutoff, finished_at = NULL,
                               resume_after = '00000000-0000-0000-0000-000000000000'
"""

# What anyone may see on a public profile: the earned codes (the caller filters to public profiles).
PUBLIC_CODES = "SELECT code FROM user_achievements WHERE user_id = %(owner_id)s ORDER BY awarded_at, code"


def award(conn: psycopg.Connection, owner_id: uuid.UUID) -> Row | None:
    """Award every achievement the user's rows now earn and has not got: ``{"username",
    "sync_version", "awards" (change rows), "connections"}``; None when the user is gone."""
    return conn.execute(AWARD, {"owner_id": owner_id, **rule_params()}).fetchone()


def mine(conn: psycopg.Connection, owner_id: uuid.UUID, *, min_holders: int) -> Row | None:
    """``{"sync_version", "earned", "rarity" ({code: percent})}``; None when the user is gone."""
    return conn.execute(MINE, {"owner_id": owner_id, "min_holders": max(1, min_holders)}).fetchone()


def refresh_rarity(conn: psycopg.Connection) -> int:
    """Recompute each held achievement's holders and the user count (daily). Returns how many
    rarities changed."""
    return conn.execute(REFRESH_RARITY).rowcount


def backfill_page(conn: psycopg.Connection, limit: int) -> Row:
    """The next window of the backfill walk: ``{"pending"`` (False: finished, or never started),
    ``"scanned"`` (users in the window), ``"users"`` (those to award), ``"last"`` (the window's last id)}."""
    row = conn.execute(BACKFILL_PAGE, {"limit": max(1, limit)}).fetchone()
    assert row is not None
    return row


def advance_backfill(conn: psycopg.Connection, last: uuid.UUID | None, *, finished: bool) -> None:
    """Record that every user up to ``last`` was backfilled (and, with ``finished``, all of them)."""
    conn.execute(BACKFILL_ADVANCE, {"last": last, "finished": finished})


def reset_backfill(conn: psycopg.Connection, cutoff: datetime | None = None) -> None:
    """(Re)start the backfill walk for users created before ``cutoff`` (default: now)."""
    conn.execute(BACKFILL_RESET, {"cutoff": cutoff})
