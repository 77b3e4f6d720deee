"""``user_identities`` against real Postgres: two unlinks racing for a password-less account's last two
identities cannot both pass (the user row is locked before counting)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg.rows import dict_row

from shared.clients import db
from shared.core.settings import get_settings
from shared.repositories import identities
from shared.repositories.users import create_user


def _connect() -> psycopg.Connection:
    return psycopg.connect(get_settings().database_dsn(), autocommit=True, row_factory=dict_row)


def _wait_for_lock_waiters(count: int) -> None:
    """Block until ``count`` sessions wait on a row lock (a condition, not a timing assertion)."""
    with _connect() as watcher:
        for _ in range(500):
            waiting = watcher.execute(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()["n"]
            if waiting >= count:
                return
            time.sleep(0.01)
    raise AssertionError("the unlinks never queued on the lock")


def _unlink(conn: psycopg.Connection, user_id, identity_id) -> str:
    with conn.transaction():
        return identities.unlink(conn, user_id=user_id, identity_id=identity_id)


def test_racing_unlinks_of_the_last_two_identities_leave_one():
    conn = db.get_conn()
    user = create_user(conn, username="ranger", email="ranger@example.com", password_hash=None)
    ids = [identities.insert(conn, user_id=user["id"], provider=provider, subject="s1", email=None,
                             email_verified=False)["identity"]["id"] for provider in ("google", "discord")]
    connections = [_connect(), _connect()]
    try:
        with _connect() as holder, holder.transaction():
            holder.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user["id"],))
            pool = ThreadPoolExecutor(max_workers=2)
            futures = [pool.submit(_unlink, c, user["id"], i) for c, i in zip(connections, ids, strict=True)]
            _wait_for_lock_waiters(2)
        outcomes = sorted(future.result(timeout=10) for future in futures)
        pool.shutdown()
    finally:
        for c in connections:
            c.close()
    assert outcomes == ["deleted", "last_method"]
    assert len(identities.for_user(conn, user["id"])) == 1


def test_unlink_outcomes():
    conn = db.get_conn()
    owner = create_user(conn, username="owner", email="owner@example.com", password_hash="$argon2id$x")
    other = create_user(conn, username="other", email="other@example.com", password_hash=None)
    mine = identities.insert(conn, user_id=owner["id"], provider="google", subject="a", email=None,
                             email_verified=False)["identity"]["id"]
    theirs = identities.insert(conn, user_id=other["id"], provider="google", subject="b", email=None,
                               email_verified=False)["identity"]["id"]
    assert _unlink(conn, owner["id"], theirs) == "not_found"  # someone else's identity: not yours to see
    assert _unlink(conn, other["id"], theirs) == "last_method"
    assert _unlink(conn, owner["id"], mine) == "deleted"  # a password remains
    assert _unlink(conn, owner["id"], mine) == "not_found"
