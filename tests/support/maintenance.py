"""Seed rows on both sides of every maintenance boundary, and read back what is left.

Rows are created through the production code (sessions, connections.register, the skills handler)
and then aged with plain UPDATEs, as the passing of time would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from shared.clients import db
from shared.identity import sessions
from shared.repositories import connections, operations

DAY = 86400


def age(table: str, column: str, seconds: int, where: str, *params: Any) -> None:
    """Set ``column`` to ``now() - seconds`` on the matching rows (``table``/``column`` are literals)."""
    db.get_conn().execute(f"UPDATE {table} SET {column} = now() - make_interval(secs => %s) WHERE {where}",
                          (seconds, *params))


def token_hashes(family_id: uuid.UUID) -> set[bytes]:
    rows = db.get_conn().execute("SELECT token_hash FROM refresh_tokens WHERE family_id = %s", (family_id,))
    return {bytes(r["token_hash"]) for r in rows.fetchall()}


def family_of(refresh_token: str) -> uuid.UUID:
    row = db.get_conn().execute("SELECT family_id FROM refresh_tokens WHERE token_hash = %s",
                                (sessions.token_hash(refresh_token),)).fetchone()
    assert row is not None
    return row["family_id"]


@dataclass
class Sessions:
    """Five sign-ins of one user, one per rule."""

    live: uuid.UUID  # rotated twice; the first token expired long ago, the second is rotated but valid
    live_expired_token: bytes
    live_rotated_token: str  # reusing it must still revoke the family after the purge
    live_current_token: str
    expired: uuid.UUID  # every token expired 2 days ago → tokens and family go
    just_expired: uuid.UUID  # expired 10 minutes ago: inside the safety margin → kept
    revoked_long_ago: uuid.UUID  # logged out 8 days ago, token still unexpired → goes
    revoked_recently: uuid.UUID  # logged out yesterday → kept


def seed_sessions(user_id: uuid.UUID) -> Sessions:
    conn = db.get_conn()
    first = sessions.start(conn, user_id)
    second = sessions.refresh(conn, first.refresh_token)
    current = sessions.refresh(conn, second.refresh_token)
    live = family_of(first.refresh_token)
    expired_hash = sessions.token_hash(first.refresh_token)
    age("refresh_tokens", "expires_at", 2 * DAY, "token_hash = %s", expired_hash)
    age("refresh_tokens", "rotated_at", 60, "token_hash = %s", sessions.token_hash(second.refresh_token))

    expired = family_of(sessions.start(conn, user_id).refresh_token)
    age("refresh_tokens", "expires_at", 2 * DAY, "family_id = %s", expired)
    just_expired = family_of(sessions.start(conn, user_id).refresh_token)
    age("refresh_tokens", "expires_at", 600, "family_id = %s", just_expired)
    old_logout = sessions.start(conn, user_id).refresh_token
    sessions.end(conn, old_logout)
    age("refresh_families", "revoked_at", 8 * DAY, "id = %s", family_of(old_logout))
    recent_logout = sessions.start(conn, user_id).refresh_token
    sessions.end(conn, recent_logout)
    age("refresh_families", "revoked_at", DAY, "id = %s", family_of(recent_logout))
    return Sessions(live, expired_hash, second.refresh_token, current.refresh_token, expired, just_expired,
                    family_of(old_logout), family_of(recent_logout))


def families() -> set[uuid.UUID]:
    return {r["id"] for r in db.get_conn().execute("SELECT id FROM refresh_families").fetchall()}


@dataclass
class Records:
    """Old and fresh rows of the other tables, by key."""

    old: dict[str, set[Any]] = field(default_factory=dict)
    fresh: dict[str, set[Any]] = field(default_factory=dict)


def seed_connections(user_id: uuid.UUID, records: Records) -> None:
    """Registered newest first: registering sweeps the same user's expired rows, as in production."""
    conn, now = db.get_conn(), datetime.now(UTC)
    # "stretched": expires_at says tomorrow (say, a longer lifetime was configured then), but API
    # Gateway closed it at 2 h anyway, so it goes by its age.
    for cid, connected_ago, lifetime_s in [("open", timedelta(minutes=30), 7200),
                                           ("stretched", timedelta(hours=3), DAY),
                                           ("closed-by-aws", timedelta(hours=3), 7200)]:
        connections.register(conn, connection_id=cid, user_id=user_id, connected_at=now - connected_ago,
                             max_lifetime_s=lifetime_s)
    records.old["ws_connections"] = {"closed-by-aws", "stretched"}
    records.fresh["ws_connections"] = {"open"}


def seed_operations(user_id: uuid.UUID, records: Records, *, old: int = 2, fresh: int = 1) -> None:
    conn = db.get_conn()
    names = {"old": [f"old-{i}" for i in range(old)], "fresh": [f"fresh-{i}" for i in range(fresh)]}
    for op_id in names["old"] + names["fresh"]:
        assert operations.claim(conn, user_id, op_id)
    age("applied_operations", "created_at", 31 * DAY, "op_id LIKE 'old-%%'")
    age("applied_operations", "created_at", 29 * DAY, "op_id LIKE 'fresh-%%'")
    records.old["applied_operations"] = set(names["old"])
    records.fresh["applied_operations"] = set(names["fresh"])


def seed_conflicts(user_id: uuid.UUID, records: Records) -> None:
    conn = db.get_conn()
    for op_id in ("conflict-old", "conflict-fresh"):
        operations.log_conflict(conn, user_id, entity_id=uuid.uuid4(), op_id=op_id, resolution="stored_won",
                                winner={"level": 3}, loser={"level": 2})
    age("sync_conflicts", "created_at", 91 * DAY, "op_id = 'conflict-old'")
    age("sync_conflicts", "created_at", 89 * DAY, "op_id = 'conflict-fresh'")
    records.old["sync_conflicts"], records.fresh["sync_conflicts"] = {"conflict-old"}, {"conflict-fresh"}


def seed_digest_sends(user_id: uuid.UUID, records: Records) -> None:
    conn = db.get_conn()
    for week, days_ago in [(1, 60), (5, 50)]:
        conn.execute("INSERT INTO digest_sends (user_id, iso_year, iso_week, claimed_at, ses_message_id, sent_at,"
                     " summary) VALUES (%s, 2025, %s, now() - make_interval(days => %s), 'ses-1', now(), %s)",
                     (user_id, week, days_ago, Jsonb({})))
    records.old["digest_sends"], records.fresh["digest_sends"] = {1}, {5}


KEYS = {
    "ws_connections": "SELECT connection_id AS k FROM ws_connections",
    "applied_operations": "SELECT op_id AS k FROM applied_operations",
    "sync_conflicts": "SELECT op_id AS k FROM sync_conflicts",
    "digest_sends": "SELECT iso_week AS k FROM digest_sends",
}


def remaining(table: str) -> set[Any]:
    return {r["k"] for r in db.get_conn().execute(KEYS[table]).fetchall()}


def log_versions(user_id: uuid.UUID) -> list[int]:
    rows = db.get_conn().execute("SELECT version FROM changes WHERE owner_id = %s ORDER BY version", (user_id,))
    return [r["version"] for r in rows.fetchall()]


def floor(user_id: uuid.UUID) -> int:
    row = db.get_conn().execute("SELECT changes_compacted_before AS f FROM users WHERE id = %s", (user_id,))
    return row.fetchone()["f"]


@pytest.fixture
def no_mail_queue(monkeypatch):
    """Maintenance invites never-verified users when a mail queue is configured (issue 15); tests that
    count the other steps run without one, whatever an earlier test left in the environment (a full
    run once had a deleted queue's URL there: 12 statements, not 11)."""
    from shared.clients.registry import reset_all

    monkeypatch.delenv("MAIL_QUEUE_URL", raising=False)
    reset_all()
