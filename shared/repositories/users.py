"""SQL for the ``users`` table. Every statement is named and parameterised; none leaves this module."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from shared.repositories.sql import CHANGE_RETURNING, profile_json

Row = dict[str, Any]

# The columns a user may see about themselves; never the password hash. ``profile`` is the same
# document GET /me/profile serves, so /auth/me and registration answer with it byte for byte.
PUBLIC_COLUMNS = ("id, username, email, display_name, avatar_url, avatar_urls, bio, privacy_settings, created_at, "
                  "updated_at, "
                  f"{profile_json('users')} AS profile")

# A username a deleted account held stays reserved until its tombstone expires (issue 15): no row.
INSERT_USER = f"""
INSERT INTO users (username, email, password_hash, display_name)
SELECT %(username)s, %(email)s, %(password_hash)s, %(display_name)s
WHERE NOT EXISTS (SELECT 1 FROM username_tombstones t
                  WHERE t.username = lower(%(username)s) AND t.reserved_until > now())
RETURNING {PUBLIC_COLUMNS}
"""

# Deleting an account in one statement: the row goes (everything that references it cascades), its
# username is tombstoned, and what must be cleaned outside Postgres comes back: the open WebSocket
# connections (read from the statement's snapshot, before the cascade), the address and the name.
DELETE_ACCOUNT = """
WITH gone AS (
    DELETE FROM users WHERE id = %(id)s AND password_hash IS NOT DISTINCT FROM %(password_hash)s
    RETURNING id, username, email, coalesce(display_name, username) AS name, locale
), tombstone AS (
    INSERT INTO username_tombstones (username, user_id, reserved_until)
    SELECT lower(username), id, now() + make_interval(secs => %(reserve_s)s) FROM gone
    ON CONFLICT (username) DO UPDATE
        SET user_id = EXCLUDED.user_id, deleted_at = now(), reserved_until = EXCLUDED.reserved_until
)
SELECT gone.id, gone.username, gone.email, gone.name, gone.locale,
       coalesce((SELECT array_agg(c.connection_id) FROM ws_connections c WHERE c.user_id = gone.id),
                ARRAY[]::text[]) AS connections,
       EXISTS (SELECT 1 FROM email_suppressions s WHERE s.email = lower(gone.email)) AS suppressed
FROM gone
"""

# Changing the username, written like every profile write (version bumped, change logged), the old
# name tombstoned; a name reserved for someone else (a tombstone not of this user) is refused (no row).
CHANGE_USERNAME = f"""
WITH old AS (
    SELECT id, username FROM users WHERE id = %(id)s FOR UPDATE
), upd AS (
    UPDATE users u SET username = %(username)s, sync_version = u.sync_version + 1, updated_at = now()
    FROM old
    WHERE u.id = old.id AND old.username <> %(username)s
      AND NOT EXISTS (SELECT 1 FROM username_tombstones t WHERE t.username = lower(%(username)s)
                      AND t.reserved_until > now() AND t.user_id IS DISTINCT FROM %(id)s)
    RETURNING u.*
), tombstone AS (
    INSERT INTO username_tombstones (username, user_id, reserved_until)
    SELECT lower(old.username), old.id, now() + make_interval(secs => %(reserve_s)s) FROM old JOIN upd USING (id)
    ON CONFLICT (username) DO UPDATE
        SET user_id = EXCLUDED.user_id, deleted_at = now(), reserved_until = EXCLUDED.reserved_until
), freed AS (
    DELETE FROM username_tombstones t USING upd WHERE t.username = lower(upd.username) AND t.user_id = upd.id
), chg AS (
    INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
    SELECT id, sync_version, 'profile', id, 'upsert', {profile_json('upd')} FROM upd
    {CHANGE_RETURNING}
)
SELECT old.username AS old_username, upd.username, {profile_json('upd')} AS profile,
       (SELECT change FROM chg) AS change
FROM old JOIN upd USING (id)
"""

PURGE_TOMBSTONES = """
DELETE FROM username_tombstones WHERE username IN (
    SELECT username FROM username_tombstones WHERE reserved_until < now() LIMIT %(limit)s)
"""
SELECT_BY_ID = f"SELECT {PUBLIC_COLUMNS} FROM users WHERE id = %(id)s"
SELECT_CREDENTIALS_BY_LOGIN = f"""
SELECT id, password_hash, {profile_json('users')} AS profile FROM users
WHERE lower(username) = lower(%(login)s) OR lower(email) = lower(%(login)s)
LIMIT 1
"""
SELECT_ACCOUNT = "SELECT id, username, email, password_hash FROM users WHERE id = %(id)s"
UPDATE_PASSWORD_HASH = "UPDATE users SET password_hash = %(password_hash)s WHERE id = %(id)s"  # noqa: S105 - SQL, not a secret


def create_user(conn: psycopg.Connection, *, username: str, email: str, password_hash: str | None,
                display_name: str | None = None) -> Row | None:
    """Insert a user; a duplicate username or email raises psycopg's UniqueViolation; None when the
    username is still reserved by a deleted account's tombstone."""
    params = {"username": username, "email": email, "password_hash": password_hash, "display_name": display_name}
    return conn.execute(INSERT_USER, params).fetchone()


def delete_account(conn: psycopg.Connection, user_id: uuid.UUID, *, password_hash: str | None,
                   reserve_s: int) -> Row | None:
    """Delete the user (if ``password_hash`` is still theirs) and tombstone the username:
    ``{"id", "username", "email", "name", "connections", "suppressed"}``, or None."""
    params = {"id": user_id, "password_hash": password_hash, "reserve_s": reserve_s}
    return conn.execute(DELETE_ACCOUNT, params).fetchone()


def change_username(conn: psycopg.Connection, user_id: uuid.UUID, *, username: str, reserve_s: int) -> Row | None:
    """``{"old_username", "username", "profile", "change"}``; None when unchanged or reserved for someone
    else. A name another account holds raises psycopg's UniqueViolation."""
    return conn.execute(CHANGE_USERNAME, {"id": user_id, "username": username, "reserve_s": reserve_s}).fetchone()


def purge_tombstones(conn: psycopg.Connection, *, limit: int) -> int:
    return conn.execute(PURGE_TOMBSTONES, {"limit": limit}).rowcount


def get_user(conn: psycopg.Connection, user_id: uuid.UUID) -> Row | None:
    return conn.execute(SELECT_BY_ID, {"id": user_id}).fetchone()


def get_credentials(conn: psycopg.Connection, login: str) -> Row | None:
    """``{"id", "password_hash", "profile"}`` for a username or email (case-insensitive)."""
    return conn.execute(SELECT_CREDENTIALS_BY_LOGIN, {"login": login}).fetchone()


def get_account(conn: psycopg.Connection, user_id: uuid.UUID) -> Row | None:
    """``{"id", "username", "email", "password_hash"}``: what the password rules need."""
    return conn.execute(SELECT_ACCOUNT, {"id": user_id}).fetchone()


def update_password_hash(conn: psycopg.Connection, user_id: uuid.UUID, password_hash: str) -> None:
    """Store a re-hash of the same password (parameters changed); not a password change."""
    conn.execute(UPDATE_PASSWORD_HASH, {"id": user_id, "password_hash": password_hash})


SELECT_SYNC_VERSION = "SELECT sync_version FROM users WHERE id = %(id)s"


def sync_version(conn: psycopg.Connection, user_id: uuid.UUID) -> int | None:
    """The user's current sync version (None when the account is gone)."""
    row = conn.execute(SELECT_SYNC_VERSION, {"id": user_id}).fetchone()
    return int(row["sync_version"]) if row else None
