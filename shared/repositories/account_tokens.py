"""SQL for single-use mailed tokens (e-mail verification, password reset) and suppressed addresses.

Tokens are looked up by ``sha256(token)``; the token itself is never stored. Each statement decides
and acts in one round trip, so a token raced by two requests is used exactly once.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from shared.repositories.sql import CHANGE_RETURNING, profile_json

Row = dict[str, Any]

# A new link supersedes the user's unused links of the same purpose (only the newest mail works).
# Nothing is inserted for a suppressed address: no mail could reach it.
ISSUE = """
WITH superseded AS (
    UPDATE account_tokens SET used_at = now()
    WHERE user_id = %(user_id)s AND purpose = %(purpose)s AND used_at IS NULL
), sent AS (  -- 019: the address has been sent a verification link (the invitation skips it)
    UPDATE users SET verification_sent_at = coalesce(verification_sent_at, now())
    WHERE id = %(user_id)s AND %(purpose)s = 'verify_email'
      AND NOT EXISTS (SELECT 1 FROM email_suppressions s WHERE s.email = lower(users.email))
)
INSERT INTO account_tokens (token_hash, user_id, purpose, email, expires_at)
SELECT %(token_hash)s, u.id, %(purpose)s, u.email, now() + make_interval(secs => %(ttl_s)s)
FROM users u
WHERE u.id = %(user_id)s
  AND NOT EXISTS (SELECT 1 FROM email_suppressions s WHERE s.email = lower(u.email))
RETURNING email
"""

# The recipient of a reset link, by the address typed into "forgot password" (exact, case-insensitive).
SELECT_RECOVERABLE = """
SELECT id, username, email, coalesce(display_name, username) AS name, locale FROM users
WHERE lower(email) = lower(%(email)s)
  AND NOT EXISTS (SELECT 1 FROM email_suppressions s WHERE s.email = lower(%(email)s))
"""

# Verifying (a verification link, or a change-of-address link): the token is used, and the user row
# is updated only if the link still applies (a verification: the address is still the user's). The
# profile changes (email, email_verified), so it is written like every profile write: the version is
# bumped and the change logged in the same statement, for the user's other devices.
VERIFY_EMAIL = f"""
WITH used AS (
    UPDATE account_tokens t SET used_at = now()
    WHERE t.token_hash = %(token_hash)s AND t.purpose IN ('verify_email', 'change_email')
      AND t.used_at IS NULL AND t.expires_at > now()
    RETURNING t.user_id, t.email, t.purpose
), before AS (
    SELECT u.id, u.email AS old_email, coalesce(u.display_name, u.username) AS name, u.locale
    FROM users u JOIN used ON used.user_id = u.id
), upd AS (
    UPDATE users u
    SET email = CASE WHEN used.purpose = 'change_email' THEN used.email ELSE u.email END,
        email_verified_at = CASE WHEN used.purpose = 'change_email' THEN now()
                                 ELSE coalesce(u.email_verified_at, now()) END,
        sync_version = u.sync_version + 1, updated_at = now()
    FROM used
    WHERE u.id = used.user_id AND (used.purpose = 'change_email' OR lower(u.email) = lower(used.email))
    RETURNING u.*
), chg AS (
    INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
    SELECT id, sync_version, 'profile', id, 'upsert', {profile_json('upd')} FROM upd
    {CHANGE_RETURNING}
)
SELECT upd.id, upd.username, {profile_json('upd')} AS profile, used.purpose, before.old_email, before.name,
       before.locale, (SELECT change FROM chg) AS change
FROM upd JOIN used ON used.user_id = upd.id JOIN before ON before.id = upd.id
"""

# A change-of-address link, for ``email`` (the new address): refused (no row) when the address is
# suppressed; an address already in use is checked by the caller and, at the switch, by the unique index.
ISSUE_CHANGE = """
WITH superseded AS (
    UPDATE account_tokens SET used_at = now()
    WHERE user_id = %(user_id)s AND purpose = 'change_email' AND used_at IS NULL
)
INSERT INTO account_tokens (token_hash, user_id, purpose, email, expires_at)
SELECT %(token_hash)s, %(user_id)s, 'change_email', %(email)s, now() + make_interval(secs => %(ttl_s)s)
WHERE NOT EXISTS (SELECT 1 FROM email_suppressions s WHERE s.email = lower(%(email)s))
RETURNING email
"""

EMAIL_IN_USE = "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(%(email)s)) AS taken"

# A reset link's account, without using the link (the new password is checked before it is spent).
PEEK_RESET = """
SELECT u.id, u.username, u.email FROM account_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = %(token_hash)s AND t.purpose = 'reset_password' AND t.used_at IS NULL
  AND t.expires_at > now() AND lower(u.email) = lower(t.email)
"""

# Resetting in one statement: the link is used, the password replaced, every sign-in revoked, the
# address marked verified (the link proved it), and a fresh sign-in started. The new family is
# invisible to the revoking CTE (same snapshot), so it survives.
RESET_PASSWORD = f"""
WITH used AS (
    UPDATE account_tokens t SET used_at = now()
    WHERE t.token_hash = %(token_hash)s AND t.purpose = 'reset_password' AND t.used_at IS NULL
      AND t.expires_at > now()
    RETURNING t.user_id, t.email
), changed AS (
    UPDATE users u SET password_hash = %(password_hash)s, updated_at = now(),
                       email_verified_at = coalesce(u.email_verified_at, now())
    FROM used WHERE u.id = used.user_id AND lower(u.email) = lower(used.email)
    RETURNING u.id, {profile_json('u')} AS profile
), revoked AS (
    UPDATE refresh_families SET revoked_at = now(), revoked_reason = 'password_reset'
    WHERE user_id IN (SELECT id FROM changed) AND revoked_at IS NULL
), family AS (
    INSERT INTO refresh_families (user_id, device_name, ip_prefix)
    SELECT id, %(device_name)s, %(ip_prefix)s FROM changed RETURNING id, user_id
), token AS (
    INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at)
    SELECT %(refresh_hash)s, id, user_id, now() + make_interval(secs => %(idle_s)s) FROM family
)
SELECT changed.id, changed.profile, family.id AS family_id FROM changed JOIN family ON family.user_id = changed.id
"""

SUPPRESS = """
INSERT INTO email_suppressions (email, reason, feedback_id) VALUES (lower(%(email)s), %(reason)s, %(feedback_id)s)
ON CONFLICT (email) DO NOTHING
RETURNING email
"""

# Scheduled purge: links that expired (a used link is kept until its expiry, then goes too).
PURGE_EXPIRED = """
DELETE FROM account_tokens WHERE token_hash IN (
    SELECT token_hash FROM account_tokens WHERE expires_at < now() LIMIT %(limit)s)
"""


def issue(conn: psycopg.Connection, *, user_id: uuid.UUID, purpose: str, token_hash: bytes, ttl_s: int) -> str | None:
    """Store a new link for the user's current address; that address, or None (suppressed or gone)."""
    row = conn.execute(ISSUE, {"user_id": user_id, "purpose": purpose, "token_hash": token_hash,
                               "ttl_s": ttl_s}).fetchone()
    return row["email"] if row else None


def recoverable(conn: psycopg.Connection, email: str) -> Row | None:
    """``{"id", "username", "email", "name"}`` of the account with this address, unless it is suppressed."""
    return conn.execute(SELECT_RECOVERABLE, {"email": email}).fetchone()


def verify_email(conn: psycopg.Connection, token_hash: bytes) -> Row | None:
    """Use a verification or change-of-address link: ``{"id", "username", "profile", "purpose",
    "old_email", "name", "change"}``, or None (unknown, used, expired, address changed since).
    A new address taken meanwhile raises psycopg's UniqueViolation (nothing is used then)."""
    return conn.execute(VERIFY_EMAIL, {"token_hash": token_hash}).fetchone()


def issue_change(conn: psycopg.Connection, *, user_id: uuid.UUID, email: str, token_hash: bytes,
                 ttl_s: int) -> str | None:
    """Store a change-of-address link for ``email``; None when that address is suppressed."""
    row = conn.execute(ISSUE_CHANGE, {"user_id": user_id, "email": email, "token_hash": token_hash,
                                      "ttl_s": ttl_s}).fetchone()
    return row["email"] if row else None


def email_in_use(conn: psycopg.Connection, email: str) -> bool:
    return bool(conn.execute(EMAIL_IN_USE, {"email": email}).fetchone()["taken"])


def peek_reset(conn: psycopg.Connection, token_hash: bytes) -> Row | None:
    return conn.execute(PEEK_RESET, {"token_hash": token_hash}).fetchone()


def reset_password(conn: psycopg.Connection, *, token_hash: bytes, password_hash: str, refresh_hash: bytes,
                   idle_s: int, device_name: str | None, ip_prefix: str | None) -> Row | None:
    """Use a reset link: ``{"id", "profile", "family_id"}``, or None when the link is no longer good."""
    params = {"token_hash": token_hash, "password_hash": password_hash, "refresh_hash": refresh_hash,
              "idle_s": idle_s, "device_name": device_name, "ip_prefix": ip_prefix}
    return conn.execute(RESET_PASSWORD, params).fetchone()


def suppress(conn: psycopg.Connection, *, email: str, reason: str, feedback_id: str | None) -> bool:
    """Mark an address suppressed; False when it already was (a redelivered notification)."""
    row = conn.execute(SUPPRESS, {"email": email, "reason": reason, "feedback_id": feedback_id}).fetchone()
    return row is not None


def purge_expired(conn: psycopg.Connection, *, limit: int) -> int:
    return conn.execute(PURGE_EXPIRED, {"limit": limit}).rowcount


# The one-time invitation to verify (migration 019): unverified accounts never sent a link that still
# want digests, in id order over a partial index; then the ones enqueued are stamped.
UNINVITED = """
SELECT u.id FROM users u
WHERE u.email_verified_at IS NULL AND u.verification_sent_at IS NULL AND u.id > %(after)s
  AND NOT u.digest_opt_out
  AND NOT EXISTS (SELECT 1 FROM email_suppressions s WHERE s.email = lower(u.email))
ORDER BY u.id LIMIT %(limit)s
"""
MARK_INVITED = """
UPDATE users SET verification_sent_at = now()
WHERE id = ANY(%(ids)s) AND verification_sent_at IS NULL AND email_verified_at IS NULL
"""
# The mail worker's check before it mails an invitation: still unverified (and the address unsuppressed).
INVITEE = """
SELECT u.id, coalesce(u.display_name, u.username) AS name FROM users u
WHERE u.id = %(id)s AND u.email_verified_at IS NULL
"""


def uninvited(conn: psycopg.Connection, *, after: uuid.UUID, limit: int) -> list[uuid.UUID]:
    return [row["id"] for row in conn.execute(UNINVITED, {"after": after, "limit": limit}).fetchall()]


def mark_invited(conn: psycopg.Connection, ids: list[uuid.UUID]) -> int:
    return conn.execute(MARK_INVITED, {"ids": ids}).rowcount


def invitee(conn: psycopg.Connection, user_id: uuid.UUID) -> Row | None:
    return conn.execute(INVITEE, {"id": user_id}).fetchone()
