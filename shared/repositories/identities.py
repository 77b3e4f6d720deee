"""SQL for ``user_identities`` (migration 013): the external accounts that sign in to a user.

An identity is found by ``(provider, subject)`` only, never by e-mail. Unlinking locks the user row
first, so two requests removing a user's last two ways to sign in cannot both succeed.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from shared.repositories.sql import iso

Row = dict[str, Any]

IDENTITY_JSON = (f"jsonb_build_object('id', i.id, 'provider', i.provider, 'email', i.email,"
                 f" 'email_verified', i.email_verified, 'created_at', {iso('i.created_at')},"
                 f" 'last_used_at', {iso('i.last_used_at')})")

# Marks the identity used and returns its user; the e-mail is refreshed to what the provider says now.
TOUCH = f"""
UPDATE user_identities i SET last_used_at = now(), email = %(email)s, email_verified = %(email_verified)s
WHERE provider = %(provider)s AND subject = %(subject)s
RETURNING i.user_id, {IDENTITY_JSON} AS identity
"""
INSERT = f"""
INSERT INTO user_identities AS i (user_id, provider, subject, email, email_verified)
VALUES (%(user_id)s, %(provider)s, %(subject)s, %(email)s, %(email_verified)s)
RETURNING i.user_id, {IDENTITY_JSON} AS identity
"""
SELECT_FOR_USER = f"""
SELECT {IDENTITY_JSON} AS identity FROM user_identities i WHERE i.user_id = %(user_id)s
ORDER BY i.created_at, i.id
"""
LOCK_USER = "SELECT password_hash IS NOT NULL AS has_password FROM users WHERE id = %(user_id)s FOR UPDATE"
COUNT_FOR_USER = "SELECT count(*) AS n FROM user_identities WHERE user_id = %(user_id)s"
DELETE = "DELETE FROM user_identities WHERE id = %(id)s AND user_id = %(user_id)s RETURNING id"
EXISTS = "SELECT 1 FROM user_identities WHERE id = %(id)s AND user_id = %(user_id)s"

# The account a first sign-in's e-mail matches, and whether that account's own address is verified.
# Issue 15 adds ``users.email_verified_at``; until it exists every account counts as unverified (the
# safe answer: no auto-link). ``to_jsonb(u)`` reads the column when it is there and NULL when not, so
# this statement is right on both sides of that migration.
SELECT_BY_EMAIL = """
SELECT u.id, (to_jsonb(u) ->> 'email_verified_at') IS NOT NULL AS email_verified
FROM users u WHERE lower(u.email) = lower(%(email)s)
"""


def touch(conn: psycopg.Connection, *, provider: str, subject: str, email: str | None,
          email_verified: bool) -> Row | None:
    """``{"user_id", "identity"}`` of a known identity (marked used), or None."""
    params = {"provider": provider, "subject": subject, "email": email, "email_verified": email_verified}
    return conn.execute(TOUCH, params).fetchone()


def insert(conn: psycopg.Connection, *, user_id: uuid.UUID, provider: str, subject: str, email: str | None,
           email_verified: bool) -> Row:
    """Link an identity; one already linked (to anyone) raises psycopg's UniqueViolation."""
    params = {"user_id": user_id, "provider": provider, "subject": subject, "email": email,
              "email_verified": email_verified}
    row = conn.execute(INSERT, params).fetchone()
    assert row is not None
    return row


def for_user(conn: psycopg.Connection, user_id: uuid.UUID) -> list[dict]:
    return [row["identity"] for row in conn.execute(SELECT_FOR_USER, {"user_id": user_id}).fetchall()]


def account_by_email(conn: psycopg.Connection, email: str) -> Row | None:
    """``{"id", "email_verified"}`` of the account whose address is ``email`` (case-insensitive)."""
    return conn.execute(SELECT_BY_EMAIL, {"email": email}).fetchone()


def unlink(conn: psycopg.Connection, *, user_id: uuid.UUID, identity_id: uuid.UUID) -> str:
    """Remove one identity unless it is the user's last way to sign in, in one transaction.

    Returns ``"deleted"``, ``"not_found"`` or ``"last_method"``. ``conn`` must be in a transaction.
    """
    user = conn.execute(LOCK_USER, {"user_id": user_id}).fetchone()
    if user is None or conn.execute(EXISTS, {"id": identity_id, "user_id": user_id}).fetchone() is None:
        return "not_found"
    if not user["has_password"] and conn.execute(COUNT_FOR_USER, {"user_id": user_id}).fetchone()["n"] <= 1:
        return "last_method"
    conn.execute(DELETE, {"id": identity_id, "user_id": user_id})
    return "deleted"
