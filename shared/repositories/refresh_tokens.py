"""SQL for refresh tokens and their families. Every statement is named, parameterised and one round trip.

Tokens are looked up by ``sha256(token)`` (``bytea``); the token itself is never stored. Revocation is
per family (one row), so revoking a sign-in rejects every token it ever issued, including the newest.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from shared.repositories.sql import iso

Row = dict[str, Any]

INSERT_FAMILY = """
WITH family AS (
    INSERT INTO refresh_families (user_id, device_name, ip_prefix)
    VALUES (%(user_id)s, %(device_name)s, %(ip_prefix)s) RETURNING id, user_id
)
INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at)
SELECT %(token_hash)s, id, user_id, now() + make_interval(secs => %(idle_s)s) FROM family
RETURNING family_id, (SELECT u.locale FROM users u WHERE u.id = %(user_id)s) AS locale
"""

# One statement decides and acts. ``FOR UPDATE`` makes a concurrent refresh of the same token wait for
# this one and then see its ``rotated_at`` (READ COMMITTED re-reads the locked row), so two tabs
# refreshing at once land in 'rotated' and 'grace' — both get a pair, nobody is logged out.
ROTATE = """
WITH presented AS (
    SELECT t.token_hash, t.family_id, t.user_id, t.rotated_at, t.expires_at, f.revoked_at
    FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
    WHERE t.token_hash = %(token_hash)s
    FOR UPDATE OF t, f
), verdict AS (
    SELECT token_hash, family_id, user_id,
           CASE WHEN revoked_at IS NOT NULL OR expires_at <= now() THEN 'invalid'
                WHEN rotated_at IS NULL THEN 'rotated'
                WHEN rotated_at > now() - make_interval(secs => %(grace_s)s) THEN 'grace'
                ELSE 'reuse' END AS outcome
    FROM presented
), used AS (
    UPDATE refresh_tokens t SET rotated_at = coalesce(t.rotated_at, now()), last_used_at = now()
    FROM verdict v WHERE t.token_hash = v.token_hash AND v.outcome IN ('rotated', 'grace')
), revoked AS (
    UPDATE refresh_families f SET revoked_at = now(), revoked_reason = 'reuse'
    FROM verdict v WHERE f.id = v.family_id AND v.outcome = 'reuse'
), seen AS (
    UPDATE refresh_families f SET last_used_at = now()
    FROM verdict v WHERE f.id = v.family_id AND v.outcome IN ('rotated', 'grace')
), issued AS (
    INSERT INTO refresh_tokens (token_hash, family_id, user_id, parent_hash, expires_at)
    SELECT %(new_hash)s, family_id, user_id, token_hash, now() + make_interval(secs => %(idle_s)s)
    FROM verdict WHERE outcome IN ('rotated', 'grace')
)
SELECT v.outcome, v.user_id, v.family_id, u.locale FROM verdict v LEFT JOIN users u ON u.id = v.user_id
"""

REVOKE_FAMILY_OF = """
UPDATE refresh_families f SET revoked_at = now(), revoked_reason = 'logout'
FROM refresh_tokens t
WHERE t.token_hash = %(token_hash)s AND f.id = t.family_id AND f.revoked_at IS NULL
"""

REVOKE_USER_FAMILIES = """
UPDATE refresh_families SET revoked_at = now(), revoked_reason = %(reason)s
WHERE user_id = %(user_id)s AND revoked_at IS NULL
"""

# Password change in one statement: the new hash is written only if the old one is still current
# (a concurrent change wins cleanly), every live family is revoked, and a fresh family starts. The
# new family is invisible to the revoking CTE (same snapshot), so it survives.
REHASH_AND_RESTART = """
WITH changed AS (
    UPDATE users SET password_hash = %(new_hash)s, updated_at = now()
    WHERE id = %(user_id)s AND password_hash = %(old_hash)s
    RETURNING id
), revoked AS (
    UPDATE refresh_families SET revoked_at = now(), revoked_reason = 'password_change'
    WHERE user_id IN (SELECT id FROM changed) AND revoked_at IS NULL
), family AS (
    INSERT INTO refresh_families (user_id, device_name, ip_prefix)
    SELECT id, %(device_name)s, %(ip_prefix)s FROM changed RETURNING id, user_id
)
INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at)
SELECT %(token_hash)s, id, user_id, now() + make_interval(secs => %(idle_s)s) FROM family
RETURNING family_id, (SELECT u.locale FROM users u WHERE u.id = %(user_id)s) AS locale
"""

# A token is dead when ROTATE could only ever answer 'invalid' for it, with no side effect: it expired
# (more than ``margin_s`` ago, so a rotation racing the purge at the expiry instant is not undone), or
# its family was revoked more than ``revoked_retention_s`` ago (ROTATE checks revocation before
# rotation, so a revoked family needs no tokens for reuse detection; the retention is for support).
# Deleting a dead token changes ROTATE's answer from 'invalid' to unknown: the same 401, no revocation.
# Rotated tokens that have not expired stay: reusing one of those is what revokes a live family.
# One batch: up to ``limit`` tokens of each kind, and the families this batch leaves without tokens
# (never a cascade, so the batch bounds the rows deleted). ``batch`` < ``limit`` means nothing is left.
# Every lookup is an index probe, so a batch costs O(batch) at any table size (issue 14: hash joins
# read every token of every user on each batch): both by-family lookups probe refresh_tokens_family_idx
# (`OFFSET 0` keeps the planner from flattening them into hash joins) and the delete probes the
# primary key with the batch as one array (`= ANY(ARRAY(…))` has no hash-join form).
PURGE_DEAD = """
WITH batch AS (
    (SELECT token_hash, family_id FROM refresh_tokens
     WHERE expires_at < now() - make_interval(secs => %(margin_s)s) LIMIT %(limit)s)
    UNION
    (SELECT t.token_hash, t.family_id FROM refresh_families f
     CROSS JOIN LATERAL (SELECT token_hash, family_id FROM refresh_tokens t WHERE t.family_id = f.id OFFSET 0) t
     WHERE f.revoked_at < now() - make_interval(secs => %(revoked_retention_s)s) LIMIT %(limit)s)
), gone AS (
    DELETE FROM refresh_tokens t WHERE t.token_hash = ANY(ARRAY(SELECT token_hash FROM batch)) RETURNING t.family_id
), emptied AS (
    DELETE FROM refresh_families f
    WHERE f.id IN (SELECT family_id FROM gone)
      AND NOT EXISTS (SELECT 1 FROM refresh_tokens t
                      WHERE t.family_id = f.id AND t.token_hash NOT IN (SELECT token_hash FROM batch) OFFSET 0)
    RETURNING f.id
)
SELECT (SELECT count(*) FROM batch) AS batch, (SELECT count(*) FROM gone) AS tokens,
       (SELECT count(*) FROM emptied) AS families
"""


# Sessions as devices (issue 15): the live sign-ins of a user, most recently used first.
LIST_SESSIONS = f"""
SELECT f.id, f.device_name, f.ip_prefix, {iso('f.created_at')} AS created_at,
       {iso('f.last_used_at')} AS last_used_at
FROM refresh_families f
WHERE f.user_id = %(user_id)s AND f.revoked_at IS NULL
  AND EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id AND t.expires_at > now())
ORDER BY f.last_used_at DESC, f.id
"""

# Sign one device out: its family is revoked and its WebSocket rows go, in one statement; the
# connection ids come back so the caller can close them at API Gateway.
REVOKE_SESSION = """
WITH revoked AS (
    UPDATE refresh_families SET revoked_at = now(), revoked_reason = 'device_revoked'
    WHERE id = %(id)s AND user_id = %(user_id)s AND revoked_at IS NULL
    RETURNING id
), closed AS (
    DELETE FROM ws_connections c WHERE c.session_id IN (SELECT id FROM revoked) RETURNING c.connection_id
)
SELECT (SELECT count(*) FROM revoked) AS revoked,
       coalesce((SELECT array_agg(connection_id) FROM closed), ARRAY[]::text[]) AS connections
"""


def list_sessions(conn: psycopg.Connection, user_id: uuid.UUID) -> list[Row]:
    """``[{"id", "device_name", "ip_prefix", "created_at", "last_used_at"}]`` of the live sign-ins."""
    return conn.execute(LIST_SESSIONS, {"user_id": user_id}).fetchall()


def revoke_session(conn: psycopg.Connection, user_id: uuid.UUID, family_id: uuid.UUID) -> list[str] | None:
    """Revoke one of the user's sign-ins; its WebSocket connection ids, or None when there was no such live one."""
    row = conn.execute(REVOKE_SESSION, {"id": family_id, "user_id": user_id}).fetchone()
    assert row is not None
    return list(row["connections"]) if row["revoked"] else None


def create_family(conn: psycopg.Connection, *, user_id: uuid.UUID, token_hash: bytes, idle_s: int,
                  device_name: str | None = None, ip_prefix: str | None = None) -> Row:
    """Start a sign-in: a new family (one device) holding its first token: ``{"family_id", "locale"}``
    (the user's language, for the access token's ``lang`` claim)."""
    params = {"user_id": user_id, "token_hash": token_hash, "idle_s": idle_s, "device_name": device_name,
              "ip_prefix": ip_prefix}
    row = conn.execute(INSERT_FAMILY, params).fetchone()
    assert row is not None
    return row


def rotate(conn: psycopg.Connection, *, token_hash: bytes, new_hash: bytes, grace_s: int, idle_s: int) -> Row | None:
    """Use a refresh token: ``{"outcome", "user_id", "family_id", "locale"}``, or None for an unknown token.

    ``outcome`` is 'rotated' or 'grace' (``new_hash`` was stored in the family), 'reuse' (the family
    was revoked just now), or 'invalid' (expired, or the family was already revoked).
    """
    params = {"token_hash": token_hash, "new_hash": new_hash, "grace_s": grace_s, "idle_s": idle_s}
    return conn.execute(ROTATE, params).fetchone()


def revoke_family_of(conn: psycopg.Connection, token_hash: bytes) -> int:
    """Revoke the sign-in a token belongs to (this device's logout); the number of families revoked."""
    return conn.execute(REVOKE_FAMILY_OF, {"token_hash": token_hash}).rowcount


def revoke_all(conn: psycopg.Connection, user_id: uuid.UUID, reason: str = "logout_all") -> int:
    """Revoke every live sign-in of a user; the number of families revoked."""
    return conn.execute(REVOKE_USER_FAMILIES, {"user_id": user_id, "reason": reason}).rowcount


def change_password(conn: psycopg.Connection, *, user_id: uuid.UUID, old_hash: str, new_hash: str,
                    token_hash: bytes, idle_s: int, device_name: str | None = None,
                    ip_prefix: str | None = None) -> Row | None:
    """Swap the password hash, revoke every family, start a new one (``{"family_id", "locale"}``);
    None if ``old_hash`` was stale."""
    params = {"user_id": user_id, "old_hash": old_hash, "new_hash": new_hash, "token_hash": token_hash,
              "idle_s": idle_s, "device_name": device_name, "ip_prefix": ip_prefix}
    return conn.execute(REHASH_AND_RESTART, params).fetchone()


def purge_dead(conn: psycopg.Connection, *, limit: int, margin_s: int, revoked_retention_s: int | None) -> Row:
    """One batch of the dead-token purge: ``{"batch", "tokens", "families"}`` (deleted counts).

    ``revoked_retention_s=None`` keeps revoked families until their tokens expire.
    """
    params = {"limit": limit, "margin_s": margin_s, "revoked_retention_s": revoked_retention_s}
    row = conn.execute(PURGE_DEAD, params).fetchone()
    assert row is not None
    return row
