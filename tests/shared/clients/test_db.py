"""The container's connection: a reset never pulls the socket from under a statement in flight."""

from __future__ import annotations

import threading
import time

import psycopg

from shared.clients import db
from shared.core.settings import get_settings


def _wait_until_running(marker: str) -> None:
    """Until Postgres reports the statement carrying ``marker`` as running (seen from another session)."""
    with psycopg.connect(get_settings().database_dsn(), autocommit=True, prepare_threshold=None) as observer:
        for _ in range(500):
            if observer.execute("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s",
                                (f"%{marker}%",)).fetchone():
                return
            time.sleep(0.01)
    raise AssertionError("the statement never started")


def test_reset_waits_for_a_statement_in_flight_on_another_thread():
    """Local gateways run handlers on their own threads; a reset between tests used to close the
    connection under a running statement, whose thread then waited for good on a reused socket."""
    results: dict[str, object] = {}

    def slow_statement() -> None:
        results["slow"] = db.get_conn().execute("SELECT 1 AS one FROM pg_sleep(0.5) -- in-flight").fetchone()

    worker = threading.Thread(target=slow_statement, daemon=True)
    worker.start()
    _wait_until_running("-- in-flight")
    db.reset()
    results["next"] = db.get_conn().execute("SELECT 2 AS two").fetchone()
    worker.join(10)
    assert not worker.is_alive()
    assert results == {"slow": {"one": 1}, "next": {"two": 2}}
