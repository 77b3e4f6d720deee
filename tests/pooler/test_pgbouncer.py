"""Only under ``make test-pooler``: the suite really talks to PgBouncer in strict transaction mode.

(tests/conftest.py collects this folder only when ATRIBUO_POOLER=pgbouncer; the rest of the
database-facing suite runs through the same pooler unchanged.)
"""

from __future__ import annotations

import threading

import psycopg
import pytest

from shared.clients import db
from shared.core.settings import get_settings


def test_every_client_goes_through_the_pooler(stack):
    assert stack.pooler is not None
    assert get_settings().database_dsn() == stack.pooler.url
    assert db.get_conn().info.port == stack.pooler.port


def test_the_pooler_refuses_startup_options_as_managed_poolers_do(stack):
    """What shared.clients.db used to send: with it, no connection at all (defect 1)."""
    with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter: options"):
        psycopg.connect(stack.pooler.url, options="-c statement_timeout=1000", connect_timeout=5)


def test_transactions_are_handed_to_different_server_sessions(stack):
    """Transaction mode for real: while one client keeps a transaction open, another client's
    statements run on another server session; a session-level SET would stay behind on whichever
    session ran it, which is why nothing in shared/ uses one."""
    holder = psycopg.connect(stack.pooler.url)
    try:
        holder_pid = holder.execute("SELECT pg_backend_pid()").fetchone()[0]  # holder is in a transaction now
        other_pid = db.get_conn().execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
        assert other_pid != holder_pid
    finally:
        holder.close()


def test_the_role_timeout_reaches_every_pooled_server_session(stack):
    """Several server sessions at once (each client holds a transaction): all have the 5 s limit."""
    barrier = threading.Barrier(4)
    seen: list[str] = []

    def client() -> None:
        with psycopg.connect(stack.pooler.url) as conn:
            timeout = conn.execute("SHOW statement_timeout").fetchone()[0]
            barrier.wait(10)  # all four transactions open together: four server sessions
            seen.append(f"{conn.execute('SELECT pg_backend_pid()').fetchone()[0]}:{timeout}")

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(seen) == 4 and len({s.split(":")[0] for s in seen}) == 4
    assert {s.split(":")[1] for s in seen} == {"5s"}
