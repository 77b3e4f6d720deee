"""SQL for the ``users`` table. Every statement is named and parameterised; none leaves this module."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from shared.repositories.sql import profile_json

Row = dict[str, Any]

# The columns a user may see about themselves; never the password hash. ``profile`` is the same
# document GET /me/profile serves, so /auth/me and registration answer with it byte for byte.
PUBLIC_COLUMNS = ("id, username, email, display_name, avatar_url, bio, privacy_settings, created_at, updated_at, "
                  f"{profile_json('users')} AS profile")

INSERT_USER = f"""
INSERT INTO users (username, email, password_hash, display_name)
VALUES (%(username)s, %(email)s, %(password_hash)s, %(display_name)s)
RETURNING {PUBLIC_COLUMNS}
"""
SELECT_BY_ID = f"SELECT {PUBLIC_COLUMNS} FROM users WHERE id = %(id)s"
SELECT_CREDENTIALS_BY_LOGIN = f"""
SELECT id, password_hash, {profile_json('users')} AS profile FROM users
WHERE lower(username) = lower(%(login)s) OR lower(email) = lower(%(login)s)
LIMIT 1
"""
SELECT_PASSWORD_HASH = "SELECT password_hash FROM users WHERE id = %(id)s"  # noqa: S105 - SQL, not a secret
UPDATE_PASSWORD_HASH = "UPDATE users SET password_hash = %(password_hash)s WHERE id = %(id)s"  # noqa: S105 - SQL, not a secret


def create_user(conn: psycopg.Connection, *, username: str, email: str, password_hash: str | None,
                display_name: str | None = None) -> Row:
    """Insert a user; a duplicate username or email raises psycopg's UniqueViolation."""
    params = {"username": username, "email": email, "password_hash": password_hash, "display_name": display_name}
    row = conn.execute(INSERT_USER, params).fetchone()
    assert row is not None
    return row


def get_user(conn: psycopg.Connection, user_id: uuid.UUID) -> Row | None:
    return conn.execute(SELECT_BY_ID, {"id": user_id}).fetchone()


def get_credentials(conn: psycopg.Connection, login: str) -> Row | None:
    """``{"id", "password_hash", "profile"}`` for a username or email (case-insensitive); the profile
    rides along so a sign-in answers with its user without a second statement."""
    return conn.execute(SELECT_CREDENTIALS_BY_LOGIN, {"login": login}).fetchone()


def get_password_hash(conn: psycopg.Connection, user_id: uuid.UUID) -> str | None:
    row = conn.execute(SELECT_PASSWORD_HASH, {"id": user_id}).fetchone()
    return row["password_hash"] if row else None


def update_password_hash(conn: psycopg.Connection, user_id: uuid.UUID, password_hash: str) -> None:
    """Store a re-hash of the same password (parameters changed); not a password change."""
    conn.execute(UPDATE_PASSWORD_HASH, {"id": user_id, "password_hash": password_hash})


SELECT_SYNC_VERSION = "SELECT sync_version FROM users WHERE id = %(id)s"


def sync_version(conn: psycopg.Connection, user_id: uuid.UUID) -> int | None:
    """The user's current sync version (None when the account is gone)."""
    row = conn.execute(SELECT_SYNC_VERSION, {"id": user_id}).fetchone()
    return int(row["sync_version"]) if row else None
