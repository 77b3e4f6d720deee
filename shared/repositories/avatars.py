"""SQL for a user's avatar (users.avatar_url / avatar_key). Each write returns the replaced key."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

# The CTE locks and reads the old key; the UPDATE then sets the new one — one atomic statement.
SET_AVATAR = """
WITH prev AS (SELECT id, avatar_key FROM users WHERE id = %(id)s FOR UPDATE)
UPDATE users u SET avatar_url = %(url)s, avatar_key = %(key)s, updated_at = now()
FROM prev WHERE u.id = prev.id
RETURNING coalesce(prev.avatar_key, '') AS previous_key
"""
CLEAR_AVATAR = """
WITH prev AS (SELECT id, avatar_key FROM users WHERE id = %(id)s FOR UPDATE)
UPDATE users u SET avatar_url = NULL, avatar_key = NULL, updated_at = now()
FROM prev WHERE u.id = prev.id AND prev.avatar_key IS NOT NULL
RETURNING prev.avatar_key AS previous_key
"""


def set_avatar(conn: psycopg.Connection, user_id: uuid.UUID, *, url: str, key: str) -> str | None:
    """Point the user at the new object; the previous key ('' if none), or None if no such user."""
    row = conn.execute(SET_AVATAR, {"id": user_id, "url": url, "key": key}).fetchone()
    return None if row is None else str(row["previous_key"])


def clear_avatar(conn: psycopg.Connection, user_id: uuid.UUID) -> str | None:
    """Remove the avatar; the key it had, or None when there was none."""
    row = conn.execute(CLEAR_AVATAR, {"id": user_id}).fetchone()
    return None if row is None else str(row["previous_key"])
