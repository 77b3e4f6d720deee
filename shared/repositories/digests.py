"""SQL for the weekly digest: which users are due, their week's numbers, and the send ledger.

Everything here works on a page of users at once (arrays in, rows out), so the number of statements
grows with the number of pages, never with the number of users.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.repositories.goals import DUE_SOON_DAYS

if TYPE_CHECKING:
    import psycopg

Row = dict[str, Any]
FIRST_ID = uuid.UUID(int=0)
GOAL_DUE_DAYS = DUE_SOON_DAYS  # goals due within this many days of the digest's local date are mentioned

# Zones whose local time at %(at)s is Monday, hour %(hour)s; computed once per planner run.
DUE_ZONES = """
SELECT name, (%(at)s::timestamptz AT TIME ZONE name)::date AS local_date
FROM pg_timezone_names
WHERE extract(isodow FROM %(at)s::timestamptz AT TIME ZONE name) = 1
  AND extract(hour FROM %(at)s::timestamptz AT TIME ZONE name) = %(hour)s
"""

# A keyset page over users_digest_due_idx (timezone, id); only users with something to report.
# Zone by zone, in name order, so every scan is an index range (timezone = z AND id > …) that starts
# at the page's position: `timezone = ANY(…) AND (timezone, id) > (…)` made Postgres 16 walk each
# zone from its first entry. The zones come sorted and the lateral keeps each zone's rows in id
# order, so the outer ORDER BY is an incremental sort per zone and the LIMIT stops the walk: a page
# reads about `limit` users whatever the size of the zone or the table. `OFFSET 0` keeps each
# activity check a per-user index probe (without it the planner may hash all of this week's rows).
DUE_USERS_PAGE = f"""
SELECT z.name AS timezone, d.id
FROM (SELECT name FROM unnest(%(zones)s::text[]) AS z(name) WHERE name >= %(after_tz)s
      GROUP BY name ORDER BY name) z
CROSS JOIN LATERAL (
    SELECT u.id FROM users u
    WHERE NOT u.digest_opt_out AND u.timezone = z.name
      AND u.email_verified_at IS NOT NULL  -- issue 15: only verified, unsuppressed addresses
      AND NOT EXISTS (SELECT 1 FROM email_suppressions x WHERE x.email = lower(u.email))
      AND u.id > CASE WHEN z.name = %(after_tz)s THEN %(after_id)s::uuid ELSE %(first_id)s::uuid END
      AND (EXISTS (SELECT 1 FROM skill_progress p WHERE p.owner_id = u.id AND NOT p.superseded
                     AND p.created_at >= %(since)s AND p.created_at < %(until)s OFFSET 0)
           OR EXISTS (SELECT 1 FROM skills s WHERE s.owner_id = u.id
                     AND s.created_at >= %(since)s AND s.created_at < %(until)s OFFSET 0)
           -- issue 17: an open goal due this coming week is worth a digest even in a quiet week
           -- (a probe of skills_goals_idx, which holds only the skills that have a goal)
           OR EXISTS (SELECT 1 FROM skills g WHERE g.owner_id = u.id AND g.goal_level IS NOT NULL
                     AND g.goal_reached_at IS NULL
                     AND g.goal_date >= (%(until)s::timestamptz AT TIME ZONE z.name)::date
                     AND g.goal_date < (%(until)s::timestamptz AT TIME ZONE z.name)::date + {GOAL_DUE_DAYS}
                     OFFSET 0))
    ORDER BY u.id
    LIMIT %(limit)s
) d
ORDER BY z.name, d.id
LIMIT %(limit)s
"""

# One statement per page: each user's week, then a claim of (user, ISO week) for users with activity.
# A claim is only (re)taken when it is new, or an unsent claim older than the lease (a crashed worker).
# The rows returned are exactly the digests this caller now owns and must send.
COMPUTE_AND_CLAIM = f"""
WITH page AS (
    SELECT id, email, username, coalesce(display_name, username) AS name, locale,
           privacy_settings->>'profile_visibility' = 'public' AS public_profile,
           (%(until)s::timestamptz AT TIME ZONE timezone)::date AS local_today FROM users
    WHERE id = ANY(%(user_ids)s::uuid[]) AND NOT digest_opt_out AND email_verified_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM email_suppressions x WHERE x.email = lower(users.email))
),
moves AS (
    SELECT p.owner_id, p.skill_id,
           (array_agg(p.previous_level ORDER BY p.created_at, p.id))[1] AS from_level,
           (array_agg(p.new_level ORDER BY p.created_at DESC, p.id DESC))[1] AS to_level,
           sum(p.new_level - coalesce(p.previous_level, 0)) AS delta,
           (array_agg(p.note ORDER BY p.created_at DESC, p.id DESC) FILTER (WHERE p.note IS NOT NULL))[1] AS note
    FROM skill_progress p
    WHERE p.owner_id IN (SELECT id FROM page) AND NOT p.superseded
      AND p.created_at >= %(since)s AND p.created_at < %(until)s
    GROUP BY p.owner_id, p.skill_id
),
levelled AS (
    SELECT m.owner_id, jsonb_agg(jsonb_build_object('name', s.name, 'category', s.category,
                                                    'from', m.from_level, 'to', m.to_level, 'note', m.note)
                                 ORDER BY m.to_level - m.from_level DESC, s.name) AS items
    FROM moves m JOIN skills s ON s.id = m.skill_id
    WHERE m.from_level IS NOT NULL AND m.to_level > m.from_level
    GROUP BY m.owner_id
),
-- fresh and categories read each page user's skills by LATERAL (an index lookup per user): as
-- ``owner_id IN (SELECT id FROM page)`` the planner hash-joined a sequential scan of all skills.
fresh AS (
    SELECT page.id AS owner_id, f.items
    FROM page CROSS JOIN LATERAL (
        SELECT jsonb_agg(jsonb_build_object('name', name, 'category', category, 'level', level)
                         ORDER BY created_at, name) AS items
        FROM skills WHERE owner_id = page.id AND created_at >= %(since)s AND created_at < %(until)s) f
    WHERE f.items IS NOT NULL
),
totals AS (SELECT owner_id, sum(delta)::int AS level_change FROM moves GROUP BY owner_id),
-- Goals (issue 17): open ones due in the 7 days from the user's local digest date, and the ones a
-- level-up reached this week (goal_reached_at is the reaching history row's time).
goals_due AS (
    SELECT s.owner_id, jsonb_agg(jsonb_build_object('name', s.name, 'category', s.category, 'level', s.level,
                                                    'target_level', s.goal_level,
                                                    'target_date', to_char(s.goal_date, 'YYYY-MM-DD'))
                                 ORDER BY s.goal_date, lower(s.name)) AS items
    FROM page JOIN skills s ON s.owner_id = page.id
    WHERE s.goal_level IS NOT NULL AND s.goal_reached_at IS NULL
      AND s.goal_date >= page.local_today AND s.goal_date < page.local_today + {GOAL_DUE_DAYS}
    GROUP BY s.owner_id
),
goals_reached AS (
    SELECT s.owner_id, jsonb_agg(jsonb_build_object('name', s.name, 'category', s.category,
                                                    'target_level', s.goal_level,
                                                    'target_date', to_char(s.goal_date, 'YYYY-MM-DD'))
                                 ORDER BY s.goal_reached_at, lower(s.name)) AS items
    FROM page JOIN skills s ON s.owner_id = page.id
    WHERE s.goal_level IS NOT NULL AND s.goal_reached_at >= %(since)s AND s.goal_reached_at < %(until)s
    GROUP BY s.owner_id
),
categories AS (
    SELECT page.id AS owner_id, c.items
    FROM page CROSS JOIN LATERAL (
        SELECT jsonb_agg(category ORDER BY points DESC, category) AS items
        FROM (SELECT category, sum(level) AS points FROM skills WHERE owner_id = page.id
              GROUP BY category ORDER BY points DESC, category LIMIT %(top)s) ranked) c
    WHERE c.items IS NOT NULL
),
active AS (
    SELECT page.id AS user_id, page.email, page.username, page.name, page.locale, page.public_profile,
           coalesce(levelled.items, '[]'::jsonb) AS levelled_up, coalesce(fresh.items, '[]'::jsonb) AS new_skills,
           coalesce(totals.level_change, 0) AS level_change,
           coalesce(categories.items, '[]'::jsonb) AS top_categories,
           coalesce(goals_due.items, '[]'::jsonb) AS goals_due,
           coalesce(goals_reached.items, '[]'::jsonb) AS goals_reached
    FROM page
    LEFT JOIN levelled ON levelled.owner_id = page.id
    LEFT JOIN fresh ON fresh.owner_id = page.id
    LEFT JOIN totals ON totals.owner_id = page.id
    LEFT JOIN categories ON categories.owner_id = page.id
    LEFT JOIN goals_due ON goals_due.owner_id = page.id
    LEFT JOIN goals_reached ON goals_reached.owner_id = page.id
    WHERE totals.owner_id IS NOT NULL OR fresh.owner_id IS NOT NULL OR goals_due.owner_id IS NOT NULL
),
claimed AS (
    INSERT INTO digest_sends AS d (user_id, iso_year, iso_week)
    SELECT user_id, %(iso_year)s, %(iso_week)s FROM active
    ON CONFLICT ON CONSTRAINT digest_sends_once DO UPDATE
        SET claimed_at = now(), attempts = d.attempts + 1
        WHERE d.ses_message_id IS NULL AND d.claimed_at < now() - make_interval(secs => %(lease_s)s)
    RETURNING d.user_id
)
SELECT active.* FROM active JOIN claimed USING (user_id) ORDER BY user_id
"""

RECORD_SENT = """
UPDATE digest_sends d SET ses_message_id = v.message_id, sent_at = now(), summary = v.summary::jsonb
FROM unnest(%(user_ids)s::uuid[], %(message_ids)s::text[], %(summaries)s::text[]) AS v(user_id, message_id, summary)
WHERE d.user_id = v.user_id AND d.iso_year = %(iso_year)s AND d.iso_week = %(iso_week)s
"""

# Give back claims whose email could not be sent, so the redelivered message sends them.
RELEASE_UNSENT = """
DELETE FROM digest_sends
WHERE user_id = ANY(%(user_ids)s::uuid[]) AND iso_year = %(iso_year)s AND iso_week = %(iso_week)s
  AND ses_message_id IS NULL
"""

OPT_OUT = """
UPDATE users SET digest_opt_out = true, updated_at = CASE WHEN digest_opt_out THEN updated_at ELSE now() END
WHERE id = %(id)s RETURNING id
"""

# The scheduled purge of old ledger rows, one page. Only weeks long past go: a claim guards its week
# against every redelivery (SQS, DLQ redrive, scheduler retry), and those end within days.
PURGE_SENDS = """
DELETE FROM digest_sends
WHERE (user_id, iso_year, iso_week) IN (
        SELECT user_id, iso_year, iso_week FROM digest_sends
        WHERE claimed_at < now() - make_interval(secs => %(retention_s)s) LIMIT %(limit)s)
  AND claimed_at < now() - make_interval(secs => %(retention_s)s)
"""


def due_zones(conn: psycopg.Connection, at: datetime, hour: int) -> list[Row]:
    """``[{"name", "local_date"}]`` of the zones where ``at`` is Monday, ``hour`` o'clock."""
    return conn.execute(DUE_ZONES, {"at": at, "hour": hour}).fetchall()


def due_users_page(conn: psycopg.Connection, *, zones: list[str], after: tuple[str, uuid.UUID] | None,
                   since: datetime, until: datetime, limit: int) -> list[Row]:
    after_tz, after_id = after or ("", FIRST_ID)
    params = {"zones": zones, "after_tz": after_tz, "after_id": after_id, "first_id": FIRST_ID, "since": since,
              "until": until, "limit": limit}
    return conn.execute(DUE_USERS_PAGE, params).fetchall()


def compute_and_claim(conn: psycopg.Connection, *, user_ids: list[uuid.UUID], iso_year: int, iso_week: int,
                      since: datetime, until: datetime, lease_s: int, top: int = 3) -> list[Row]:
    params = {"user_ids": user_ids, "iso_year": iso_year, "iso_week": iso_week, "since": since, "until": until,
              "lease_s": lease_s, "top": top}
    return conn.execute(COMPUTE_AND_CLAIM, params).fetchall()


def record_sent(conn: psycopg.Connection, *, sent: list[tuple[uuid.UUID, str, dict[str, Any]]],
                iso_year: int, iso_week: int) -> None:
    if not sent:
        return
    conn.execute(RECORD_SENT, {
        "user_ids": [user_id for user_id, _, _ in sent], "message_ids": [mid for _, mid, _ in sent],
        "summaries": [json.dumps(summary, default=str) for _, _, summary in sent],
        "iso_year": iso_year, "iso_week": iso_week,
    })


def release_unsent(conn: psycopg.Connection, *, user_ids: list[uuid.UUID], iso_year: int, iso_week: int) -> None:
    if user_ids:
        conn.execute(RELEASE_UNSENT, {"user_ids": user_ids, "iso_year": iso_year, "iso_week": iso_week})


def opt_out(conn: psycopg.Connection, user_id: uuid.UUID) -> bool:
    """Stop digests for the user; False when there is no such user."""
    return conn.execute(OPT_OUT, {"id": user_id}).fetchone() is not None


def purge_sends(conn: psycopg.Connection, *, retention_s: int, limit: int) -> int:
    """Delete up to ``limit`` ledger rows claimed more than ``retention_s`` ago; returns how many."""
    return conn.execute(PURGE_SENDS, {"retention_s": retention_s, "limit": limit}).rowcount
