"""Refresh-token rotation against real Postgres: true concurrency, and one statement per refresh."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from shared.clients import db
from shared.core.errors import UnauthorizedError
from shared.core.settings import get_settings
from shared.identity import sessions
from shared.repositories import refresh_tokens
from shared.repositories.users import create_user


@pytest.fixture
def user_id(password_hash):
    return create_user(db.get_conn(), username="tabby", email="tabby@example.com", password_hash=password_hash)["id"]


def _connect() -> psycopg.Connection:
    return psycopg.connect(get_settings().database_dsn(), autocommit=True, row_factory=dict_row, prepare_threshold=None)


def _wait_for_lock_waiters(count: int) -> None:
    """Block until ``count`` sessions are waiting on a row lock (a condition, not a timing assertion)."""
    with _connect() as watcher:
        for _ in range(500):
            waiting = watcher.execute(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()["n"]
            if waiting >= count:
                return
            time.sleep(0.01)
    raise AssertionError("the refreshes never queued on the lock")


def test_two_truly_concurrent_refreshes_of_one_token_both_succeed(user_id):
    start = sessions.start(db.get_conn(), user_id)
    digest = sessions.token_hash(start.refresh_token)
    connections = [_connect(), _connect()]
    try:
        with _connect() as holder, holder.transaction():
            # Hold the token's row so both refreshes are in flight at once, then let them race.
            holder.execute("SELECT 1 FROM refresh_tokens WHERE token_hash = %s FOR UPDATE", (digest,))
            pool = ThreadPoolExecutor(max_workers=2)
            futures = [pool.submit(sessions.refresh, conn, start.refresh_token) for conn in connections]
            _wait_for_lock_waiters(2)
        pairs = [future.result(timeout=10) for future in futures]
        pool.shutdown()
    finally:
        for conn in connections:
            conn.close()
    assert len({pair.refresh_token for pair in pairs}) == 2
    for pair in pairs:  # neither tab was logged out: both new tokens keep working
        assert sessions.refresh(db.get_conn(), pair.refresh_token).access_token
    outcomes = db.get_conn().execute(
        "SELECT count(*) FILTER (WHERE parent_hash = %s) AS children, "
        "count(*) FILTER (WHERE revoked_at IS NOT NULL) AS revoked "
        "FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id", (digest,)).fetchone()
    assert outcomes == {"children": 2, "revoked": 0}


class CountingConnection:
    """Passes everything through to a real connection, counting the statements sent."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.statements = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return self.conn.execute(*args, **kwargs)


def test_refresh_and_sign_in_are_one_statement_each(user_id):
    counting = CountingConnection(db.get_conn())
    pair = sessions.start(counting, user_id)
    assert counting.statements == 1
    sessions.refresh(counting, pair.refresh_token)
    assert counting.statements == 2
    sessions.end(counting, pair.refresh_token)
    assert counting.statements == 3


def test_rotate_reports_each_outcome(user_id):
    conn = db.get_conn()
    pair = sessions.start(conn, user_id)
    old = sessions.token_hash(pair.refresh_token)

    def rotate(digest: bytes) -> str | None:
        row = refresh_tokens.rotate(conn, token_hash=digest, new_hash=sessions.new_refresh_token()[1],
                                    grace_s=10, idle_s=3600)
        return row["outcome"] if row else None

    assert rotate(old) == "rotated"
    assert rotate(old) == "grace"
    conn.execute("UPDATE refresh_tokens SET rotated_at = now() - interval '10 seconds' WHERE token_hash = %s", (old,))
    assert rotate(old) == "reuse"
    assert rotate(old) == "invalid"  # the family is revoked now
    assert rotate(b"\0" * 32) is None


def test_logout_of_an_unknown_token_is_quiet_and_refresh_of_it_is_401(user_id):
    sessions.end(db.get_conn(), "never-issued-token-0123456789")
    with pytest.raises(UnauthorizedError):
        sessions.refresh(db.get_conn(), "never-issued-token-0123456789")


def test_purge_removes_expired_tokens_and_empty_families(user_id):
    conn = db.get_conn()
    keep = sessions.start(conn, user_id)
    sessions.start(conn, user_id)
    conn.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 day' WHERE token_hash <> %s",
                 (sessions.token_hash(keep.refresh_token),))
    refresh_tokens.purge_dead(conn, limit=100, margin_s=0, revoked_retention_s=None)
    counts = conn.execute("SELECT (SELECT count(*) FROM refresh_tokens) AS tokens,"
                          " (SELECT count(*) FROM refresh_families) AS families").fetchone()
    assert counts == {"tokens": 1, "families": 1}
    assert sessions.refresh(conn, keep.refresh_token)


def test_a_concurrent_password_change_loses_cleanly(user_id, password_hash):
    conn = db.get_conn()
    assert sessions.restart_with_password(conn, user_id, "$argon2id$stale", "$argon2id$new") is None
    assert conn.execute("SELECT password_hash FROM users WHERE id = %s", (user_id,)).fetchone()[
        "password_hash"] == password_hash

