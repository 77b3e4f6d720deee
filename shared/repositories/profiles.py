"""SQL for profiles, the character sheet and the leaderboard. One statement per function.

Public reads (``public_profile``, ``leaderboard``) only ever see users whose
``privacy_settings.profile_visibility`` is ``public``: a private profile is indistinguishable from a
missing one. ``update_profile`` is one statement that changes the row, bumps ``sync_version`` in the
same UPDATE (so only when something really changed) and appends the ``changes`` row.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from shared.core.errors import UnauthorizedError
from shared.repositories.sql import (
    CHANGE_RETURNING,
    LIVE_CONNECTIONS,
    Row,
    WriteResult,
    iso,
    profile_json,
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
SELECT u.username, u.display_name, u.avatar_url, u.bio, {iso('u.created_at')} AS created_at,
       (SELECT COALESCE(jsonb_agg({skill_json('x')} ORDER BY x.level DESC, lower(x.name)), '[]'::jsonb)
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
SELECT rank() OVER (ORDER BY b.score DESC)::int AS rank, u.username, u.display_name, u.avatar_url,
       b.score, b.skill_count, t.score AS total_level
FROM (SELECT owner_id, score, skill_count, username FROM skill_scores
      WHERE category = %(board)s AND public
      ORDER BY score DESC, username LIMIT %(limit)s) b
JOIN users u ON u.id = b.owner_id
JOIN skill_scores t ON t.owner_id = b.owner_id AND t.category = ''
WHERE {PUBLIC}
ORDER BY b.score DESC, b.username
"""

_NEW_VALUES = """(
    CASE WHEN %(set_display_name)s THEN %(display_name)s::text ELSE u.display_name END,
    CASE WHEN %(set_bio)s THEN %(bio)s::text ELSE u.bio END,
    u.privacy_settings || %(privacy)s::jsonb,
    COALESCE(%(timezone)s::text, u.timezone),
    COALESCE(%(digest_opt_out)s::boolean, u.digest_opt_out))"""
UPDATE_PROFILE = f"""
WITH upd AS (
    UPDATE users u SET (display_name, bio, privacy_settings, timezone, digest_opt_out) = {_NEW_VALUES},
        sync_version = u.sync_version + 1, updated_at = now()
    WHERE u.id = %(owner_id)s AND (u.display_name, u.bio, u.privacy_settings, u.timezone, u.digest_opt_out)
          IS DISTINCT FROM {_NEW_VALUES}
    RETURNING u.*
),
chg AS (
    INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
    SELECT id, sync_version, 'profile', id, 'upsert', {profile_json('upd')} FROM upd
    {CHANGE_RETURNING}
)
SELECT COALESCE(upd.sync_version, u.sync_version) AS sync_version, u.username,
       (SELECT data FROM chg) AS entity, (SELECT change FROM chg) AS change,
       {profile_json('u')} AS current, false AS stale, {LIVE_CONNECTIONS}
FROM users u LEFT JOIN upd ON upd.id = u.id
WHERE u.id = %(owner_id)s
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


def update_profile(conn: psycopg.Connection, owner_id: uuid.UUID, changes: dict[str, Any]) -> WriteResult:
    """Apply ``changes`` (display_name, bio, privacy_settings, timezone, digest_opt_out) in one statement.

    ``privacy_settings`` is merged into the stored object. Status ``applied`` or ``unchanged``.
    """
    from psycopg.types.json import Jsonb

    params = {"owner_id": owner_id, "set_display_name": "display_name" in changes,
              "display_name": changes.get("display_name"), "set_bio": "bio" in changes, "bio": changes.get("bio"),
              "privacy": Jsonb(changes.get("privacy_settings") or {}), "timezone": changes.get("timezone"),
              "digest_opt_out": changes.get("digest_opt_out")}
    result = write_result(conn.execute(UPDATE_PROFILE, params).fetchone())
    if result.sync_version is None:
        raise UnauthorizedError("the account behind this token no longer exists")
    return result
