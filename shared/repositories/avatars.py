"""SQL for a user's avatar (users.avatar_url / avatar_key, and since issue 17 avatar_urls / avatar_card).

The avatar is part of the profile, so changing it is a profile write like any other: one statement
locks the row, sets the new key, bumps ``sync_version``, appends the profile's ``changes`` row and
returns the replaced key with the change (and the owner's open connections, for the fan-out).
Re-confirming the same avatar changes nothing and bumps nothing. The sizes' URLs and the card's
128 px bytes are written in the same statement, so they never describe another avatar than avatar_url.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from shared.core.errors import SessionRevokedError
from shared.repositories.profiles import PUBLIC
from shared.repositories.sql import CHANGE_RETURNING, LIVE, LIVE_CONNECTIONS, LIVE_SESSION, profile_json, session_params

if TYPE_CHECKING:
    import psycopg

_WRITE = """
WITH """ + LIVE_SESSION + """,
prev AS (SELECT id, avatar_key, avatar_url FROM users WHERE id = %(id)s FOR UPDATE),
upd AS (
    UPDATE users u SET avatar_url = %(url)s, avatar_key = %(key)s, avatar_urls = %(urls)s, avatar_card = %(card)s,
                       updated_at = now(),
                       sync_version = u.sync_version + 1
    FROM prev WHERE u.id = prev.id AND prev.avatar_key IS DISTINCT FROM %(key)s AND {guard} AND """ + LIVE + """
    RETURNING u.*
),
chg AS (
    INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
    SELECT id, sync_version, 'profile', id, 'upsert', {profile} FROM upd
    {returning}
)
SELECT prev.avatar_key AS previous_key, EXISTS (SELECT 1 FROM upd) AS changed, u.username, """ + LIVE + """ AS live,
       (SELECT change FROM chg) AS change, {connections}
FROM prev JOIN users u ON u.id = prev.id
"""
SET_AVATAR = _WRITE.format(guard="true", profile=profile_json("upd"), returning=CHANGE_RETURNING,
                           connections=LIVE_CONNECTIONS)
CLEAR_AVATAR = _WRITE.format(guard="prev.avatar_key IS NOT NULL", profile=profile_json("upd"),
                             returning=CHANGE_RETURNING, connections=LIVE_CONNECTIONS)


def _result(row: dict[str, Any] | None) -> tuple[str | None, dict[str, Any] | None]:
    if row is None:
        return None, None
    if not row["live"]:
        raise SessionRevokedError()
    change = {**row["change"], "username": row["username"], "connections": row["connections"]} \
        if row["change"] else None
    return row["previous_key"] or "", change


def set_avatar(conn: psycopg.Connection, user_id: uuid.UUID, *, url: str, key: str, urls: dict[str, str],
               card: bytes) -> tuple[str | None, dict[str, Any] | None]:
    """``(previous key or '' , change or None)``; ``(None, None)`` when there is no such user.
    Raises SessionRevokedError when the caller's sign-in was revoked (nothing written)."""
    from psycopg.types.json import Jsonb

    params = {"id": user_id, "owner_id": user_id, "url": url, "key": key, "urls": Jsonb(urls), "card": card,
              **session_params()}
    return _result(conn.execute(SET_AVATAR, params).fetchone())


def clear_avatar(conn: psycopg.Connection, user_id: uuid.UUID) -> tuple[str | None, dict[str, Any] | None]:
    """``(the key it had or '', change or None)``; ``''`` when there was no avatar."""
    params = {"id": user_id, "owner_id": user_id, "url": None, "key": None, "urls": None, "card": None,
              **session_params()}
    return _result(conn.execute(CLEAR_AVATAR, params).fetchone())


CARD_AVATAR = "SELECT u.avatar_card FROM users u WHERE lower(u.username) = lower(%(username)s) AND " + PUBLIC


def card_avatar(conn: psycopg.Connection, username: str) -> bytes | None:
    """The 128 px WebP a public profile's card embeds, or None (no avatar, no sizes yet, or not public)."""
    row = conn.execute(CARD_AVATAR, {"username": username}).fetchone()
    return bytes(row["avatar_card"]) if row and row["avatar_card"] is not None else None
