"""Migrations: one transaction per file, a transaction-scoped lock, SET LOCAL limits that end with it."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from shared.clients import db
from shared.core.settings import get_settings
from shared.ops.migrate import LOCK_KEY, STATEMENT_TIMEOUT_MS, migrate, pending_files


@pytest.fixture
def scratch(tmp_path: Path):
    """Write throwaway migration files; whatever they create and record is removed afterwards."""
    written: list[Path] = []

    def write(name: str, sql: str) -> Path:
        path = tmp_path / f"{name}.sql"
        path.write_text(sql)
        written.append(path)
        return path

    yield write
    conn = db.get_conn()
    for table in ("zz_scratch_a", "zz_scratch_b", "zz_scratch_limits"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute("DELETE FROM schema_migrations WHERE version = ANY(%s)", ([p.stem for p in written],))


def _recorded(versions: list[str]) -> list[str]:
    rows = db.get_conn().execute("SELECT version FROM schema_migrations WHERE version = ANY(%s) ORDER BY version",
                                 (versions,)).fetchall()
    return [row["version"] for row in rows]


def test_each_file_is_its_own_transaction_so_a_failure_keeps_the_files_before_it(scratch):
    good = scratch("901_scratch_good", "CREATE TABLE zz_scratch_a (id int)")
    bad = scratch("902_scratch_bad", "CREATE TABLE zz_scratch_b (id int); SELECT 1/0")
    with pytest.raises(psycopg.errors.DivisionByZero):
        migrate(db.get_conn(), [good, bad])
    assert _recorded([good.stem, bad.stem]) == [good.stem]
    tables = db.get_conn().execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'zz_scratch_%'").fetchall()
    assert [row["tablename"] for row in tables] == ["zz_scratch_a"]  # the failed file left nothing


def test_the_limit_is_set_local_and_the_lock_transaction_scoped(scratch):
    """Inside a file: the long statement timeout and the advisory lock. After it: neither remains on
    the connection, so a transaction-mode pooler has no session state to lose or leak."""
    probe = scratch("903_scratch_limits", f"""
        CREATE TABLE zz_scratch_limits AS
        SELECT current_setting('statement_timeout') AS timeout,
               (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {LOCK_KEY & 0xFFFFFFFF}
                  AND pid = pg_backend_pid() AND granted) AS locks
    """)
    conn = db.get_conn()
    assert migrate(conn, [probe]) == [probe.stem]
    inside = conn.execute("SELECT timeout, locks FROM zz_scratch_limits").fetchone()
    assert inside == {"timeout": f"{STATEMENT_TIMEOUT_MS // 60_000}min", "locks": 1}
    assert conn.execute("SHOW statement_timeout").fetchone()["statement_timeout"] == "5s"
    held = conn.execute("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'").fetchone()["n"]
    assert held == 0


def test_a_second_run_waits_for_the_first_and_applies_nothing_twice(scratch):
    """The other run holds the lock (as a deploy would, mid-file); ours waits, then finds it applied."""
    target = scratch("904_scratch_once", "CREATE TABLE zz_scratch_a (id int)")
    other = psycopg.connect(get_settings().database_dsn(), row_factory=psycopg.rows.dict_row)
    results: dict[str, object] = {}
    try:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        other.execute("CREATE TABLE zz_scratch_a (id int)")
        other.execute("INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                      (target.stem, _checksum(target)))
        worker = threading.Thread(target=lambda: results.update(applied=migrate(_own_connection(), [target])),
                                  daemon=True)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # blocked on the lock, not applying
        other.commit()
        worker.join(30)
        assert not worker.is_alive()
    finally:
        other.close()
    assert results == {"applied": []}


def test_every_shipped_file_is_recorded_and_the_role_has_the_pooled_timeouts():
    conn = db.get_conn()
    assert _recorded([p.stem for p in pending_files()]) == [p.stem for p in pending_files()]
    assert conn.execute("SHOW statement_timeout").fetchone()["statement_timeout"] == "5s"
    idle = conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()
    assert idle["idle_in_transaction_session_timeout"] == "15s"


def _checksum(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _own_connection() -> psycopg.Connection:
    """A second container's connection (the module's one belongs to this test's thread)."""
    return db.connection_class().connect(
        get_settings().database_dsn(), autocommit=True, prepare_threshold=None, row_factory=psycopg.rows.dict_row)
