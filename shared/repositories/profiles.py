"""SQL for profiles, the character sheet and the leaderboard. One statement per function.

Public reads (``public_profile``, ``leaderboard``) only ever see users whose
``privacy_settings.profile_visibility`` is ``public``: a private profile is indistinguishable from a
missing one. ``update_profile`` is one statement that changes the row, bumps ``sync_version`` in the
same UPDATE (so only when something really changed) and appends the ``changes`` row.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.core.errors import UnauthorizedError
from shared.repositories.conflicts import CONFLICT_CTES
from shared.repositories.sql import (
    CHANGE_RETURNING,
    LIVE,
    LIVE_CONNECTIONS,
    LIVE_SESSION,
    Row,
    WriteResult,
    etag_sql,
    iso,
    profile_json,
    session_params,
    skill_json,
    write_result,
)

if TYPE_CHECKING:
    import psycopg

PUBLIC = "u.privacy_settings->>'profile_visibility' = 'public'"

GET_PROFILE = f"SELECT u.sync_version, {profile_json('u')} AS item FROM users u WHERE u.id = %(owner_id)s"

CATEGORY_STATS = """
SELECT u.sync_version, c.category, c.skill_count, c.total_level, c.max_level
FROM users u
LEFT JOIN LATERAL (
    SELECT category, count(*) AS skill_count, sum(level) AS total_level, max(level) AS max_level
    FROM skills WHERE owner_id = u.id GROUP BY category
) c ON true
WHERE u.id = %(owner_id)s
"""

PUBLIC_PROFILE = f"""
SELECT u.username, u.display_name, u.avatar_url, u.avatar_urls, u.bio, {iso('u.created_at')} AS created_at,
       (SELECT COALESCE(jsonb_agg({skill_json('x', goal=False)} ORDER BY x.level DESC, lower(x.name)), '[]'::jsonb)
        FROM skills x WHERE x.owner_id = u.id) AS skills
FROM users u
WHERE lower(u.username) = lower(%(username)s) AND {PUBLIC}
"""

# One board of the maintained scores (migration 011): the first %(limit)s entries of
# skill_scores_board_idx (category, score DESC, username) WHERE public, then a primary-key lookup of
# each entry's user and overall row. '' is the overall board. The page is a prefix of the board,
# so rank() over it is the board-wide rank (ties share one). The users join re-tests visibility,
# so a drifted copy could only shorten a page, never show a private profile.
LEADERBOARD = f"""
SELECT rank() OVER (ORDER BY b.score DESC)::int AS rank, u.username, u.display_name, u.avatar_url, u.avatar_urls,
       b.score, b.skill_count, t.score AS total_level
FROM (SELECT owner_id, score, skill_count, username FROM skill_scores
      WHERE category = %(board)s AND public
      ORDER BY score DESC, username LIMIT %(limit)s) b
JOIN users u ON u.id = b.owner_id
JOIN skill_scores t ON t.owner_id = b.owner_id AND t.category = ''
WHERE {PUBLIC}
ORDER BY b.score DESC, b.username
"""

PROFILE_FIELDS = ("display_name", "bio", "privacy_settings", "timezone", "digest_opt_out", "locale")


def _wins(field: str) -> str:
    """Whether the write sets ``field``: it was sent and, for a timed write (``at``: an offline
    profile operation), is not older than the field's last write (field-level last-write-wins)."""
    return (f"(%(set_{field})s AND (%(at)s::timestamptz IS NULL OR %(at)s::timestamptz >="
            f" COALESCE((u.profile_field_times->>'{field}')::timestamptz, '-infinity')))")


# The write's preconditions on the locked row (REST If-Match / If-Unmodified-Since), as for skills.
_GUARD_OK = ("((%(guard)s::timestamptz IS NULL OR u.updated_at <= %(guard)s::timestamptz)"
             f" AND (%(if_match)s::text[] IS NULL OR {etag_sql(profile_json('u'))} = ANY(%(if_match)s::text[])))")
_OLD = "(c.display_name, c.bio, c.privacy_settings, c.timezone, c.digest_opt_out, c.locale)"
_NEW = """(
    CASE WHEN c.w_display_name THEN %(display_name)s::text ELSE c.display_name END,
    CASE WHEN c.w_bio THEN %(bio)s::text ELSE c.bio END,
    CASE WHEN c.w_privacy_settings THEN c.privacy_settings || %(privacy)s::jsonb ELSE c.privacy_settings END,
    CASE WHEN c.w_timezone THEN %(timezone)s::text ELSE c.timezone END,
    CASE WHEN c.w_digest_opt_out THEN %(digest_opt_out)s::boolean ELSE c.digest_opt_out END,
    CASE WHEN c.w_locale THEN %(locale)s::text ELSE c.locale END)"""
_STAMPS = ("jsonb_strip_nulls(jsonb_build_object(" + ", ".join(
    f"'{f}', CASE WHEN c.w_{f} THEN {iso('COALESCE(%(at)s::timestamptz, now())')} END" for f in PROFILE_FIELDS) + "))")
_LOST_FIELDS = ("array_remove(ARRAY[" + ", ".join(
    f"CASE WHEN %(set_{f})s AND NOT c.w_{f} THEN '{f}' END" for f in PROFILE_FIELDS) + "], NULL)")

# One statement: lock the row, decide per field, write (bumping the version only when something
# changed) and log the change; or, when a precondition fails and the caller wants it recorded, log
# the refused write as a conflict (with its own version bump). The two UPDATEs of the row exclude
# each other (``c.ok``).
UPDATE_PROFILE = f"""
WITH {LIVE_SESSION},
c AS (
    SELECT u.*, {_GUARD_OK} AS ok, {", ".join(f"{_wins(f)} AS w_{f}" for f in PROFILE_FIELDS)}
    FROM users u WHERE u.id = %(owner_id)s
    FOR UPDATE
),
upd AS (
    UPDATE users u SET (display_name, bio, privacy_settings, timezone, digest_opt_out, locale) = {_NEW},
        profile_field_times = u.profile_field_times || {_STAMPS},
        sync_version = u.sync_version + 1,
        updated_at = CASE WHEN %(at)s::timestamptz IS NULL THEN now()
                          ELSE greatest(u.updated_at, %(at)s::timestamptz) END
    FROM c WHERE u.id = c.id AND c.ok AND {LIVE} AND {_OLD} IS DISTINCT FROM {_NEW}
    RETURNING u.*
),
chg AS (
    INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
    SELECT id, sync_version, 'profile', id, 'upsert', {profile_json('upd')} FROM upd
    {CHANGE_RETURNING}
),
lost AS (
    SELECT 'profile'::text AS entity, c.id AS entity_id, {profile_json('c')} AS winner,
           {profile_json('c')} || %(attempt)s::jsonb AS loser
    FROM c WHERE %(record_conflict)s AND NOT c.ok AND {LIVE}
),
ver AS (
    UPDATE users u SET sync_version = u.sync_version + 1 FROM lost WHERE u.id = lost.entity_id
    RETURNING u.id, u.sync_version
),{CONFLICT_CTES}
SELECT COALESCE((SELECT sync_version FROM upd), (SELECT sync_version FROM ver), u.sync_version) AS sync_version,
       u.username, (SELECT data FROM chg) AS entity, (SELECT change FROM chg) AS change,
       {profile_json('u')} AS current, NOT u.ok AS stale, (SELECT change FROM cchg) AS conflict_change,
       (SELECT {_LOST_FIELDS} FROM c) AS lost_fields, {LIVE} AS live, {LIVE_CONNECTIONS}
FROM c u
"""


def get_profile(conn: psycopg.Connection, owner_id: uuid.UUID) -> tuple[int, Row]:
    """``(sync_version, the owner's profile JSON)``."""
    row = conn.execute(GET_PROFILE, {"owner_id": owner_id}).fetchone()
    if row is None:
        raise UnauthorizedError("the account behind this token no longer exists")
    return int(row["sync_version"]), row["item"]


def category_stats(conn: psycopg.Connection, owner_id: uuid.UUID) -> tuple[int, list[Row]]:
    """``(sync_version, [{category, skill_count, total_level, max_level}])`` for ``shared.public.character``."""
    rows = conn.execute(CATEGORY_STATS, {"owner_id": owner_id}).fetchall()
    if not rows:
        raise UnauthorizedError("the account behind this token no longer exists")
    return int(rows[0]["sync_version"]), [r for r in rows if r["category"] is not None]


def public_profile(conn: psycopg.Connection, username: str) -> Row | None:
    """A public profile with all its skills (strongest first), or None when missing or private."""
    return conn.execute(PUBLIC_PROFILE, {"username": username}).fetchone()


def leaderboard(conn: psycopg.Connection, category: str | None = None, limit: int = 100) -> list[Row]:
    """Public users ranked by total level, or by total level within ``category`` (ties share a rank)."""
    return conn.execute(LEADERBOARD, {"board": category or "", "limit": limit}).fetchall()


def update_profile(conn: psycopg.Connection, owner_id: uuid.UUID, changes: dict[str, Any], *,
                   at: datetime | None = None, if_unmodified_since: datetime | None = None,
                   if_match: list[str] | None = None, record_conflict: bool = False,
                   op_id: str | None = None) -> WriteResult:
    """Apply ``changes`` (display_name, bio, privacy_settings, timezone, digest_opt_out, locale) in one statement.

    ``privacy_settings`` is merged into the stored object. Status ``applied`` or ``unchanged``; with
    a precondition (``if_unmodified_since``, ``if_match``) that fails, ``stale`` (recorded as a
    conflict with ``record_conflict``). ``at`` makes it an offline operation made at that time:
    each field is written only if it was not written later (field-level last-write-wins); the
    fields that lost are in ``lost_fields(result)``.
    """
    from psycopg.types.json import Jsonb

    params = {"owner_id": owner_id, "display_name": changes.get("display_name"), "bio": changes.get("bio"),
              "privacy": Jsonb(changes.get("privacy_settings") or {}), "timezone": changes.get("timezone"),
              "digest_opt_out": changes.get("digest_opt_out"), "locale": changes.get("locale"),
              "at": at, "guard": if_unmodified_since,
              "if_match": if_match, "record_conflict": record_conflict, "attempt": Jsonb(changes),
              "op_id": op_id, "source": "rest" if op_id is None else "batch", **session_params(),
              **{f"set_{field}": field in changes for field in PROFILE_FIELDS}}
    row = conn.execute(UPDATE_PROFILE, params).fetchone()
    result = write_result(row)
    if result.sync_version is None:
        raise UnauthorizedError("the account behind this token no longer exists")
    return replace(result, lost_fields=tuple(row["lost_fields"] if row else ()))
