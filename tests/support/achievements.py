"""Helpers for the achievement tests: separate real connections for real concurrency, and reads."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from shared.clients import db
from shared.core.settings import get_settings


def connect() -> psycopg.Connection:
    """A connection opened as ``shared.clients.db`` opens one (autocommit, dict rows, pooler-safe)."""
    return psycopg.connect(get_settings().database_dsn(), autocommit=True, row_factory=dict_row,
                           prepare_threshold=None)


def wait_for_lock_waiters(count: int) -> None:
    """Block until ``count`` sessions wait on a lock (a condition, not a timing assertion)."""
    with connect() as watcher:
        for _ in range(1000):
            waiting = watcher.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                      ).fetchone()["n"]
            if waiting >= count:
                return
            time.sleep(0.01)
    raise AssertionError(f"{count} sessions never queued on the lock")


@contextmanager
def user_row_held(user_id: uuid.UUID) -> Iterator[None]:
    """Hold the user's row (FOR UPDATE) until the block ends, so writes started inside queue up and
    then race the moment it is released."""
    with connect() as holder, holder.transaction():
        holder.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))
        yield


@contextmanager
def connection_per_thread() -> Iterator[None]:
    """Make ``shared.clients.db`` give each thread its own connection (a Lambda container each), so
    code written for one connection per container runs truly concurrently."""
    local, opened = threading.local(), []

    def get_conn() -> psycopg.Connection:
        if getattr(local, "conn", None) is None:
            local.conn = connect()
            opened.append(local.conn)
        return local.conn

    original, db.get_conn = db.get_conn, get_conn
    try:
        yield
    finally:
        db.get_conn = original
        for conn in opened:
            conn.close()


def awarded(user_id: Any) -> list[str]:
    rows = db.get_conn().execute("SELECT code FROM user_achievements WHERE user_id = %s ORDER BY code", (user_id,))
    return [row["code"] for row in rows.fetchall()]


def award_changes(user_id: Any) -> list[dict[str, Any]]:
    """The user's change-log entries for awards, in version order."""
    return db.get_conn().execute("SELECT version, entity_id, data FROM changes WHERE owner_id = %s"
                                 " AND entity = 'achievement' ORDER BY version", (user_id,)).fetchall()


def versions(user_id: Any) -> list[int]:
    rows = db.get_conn().execute("SELECT version FROM changes WHERE owner_id = %s ORDER BY version", (user_id,))
    return [row["version"] for row in rows.fetchall()]
