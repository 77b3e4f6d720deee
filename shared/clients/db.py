"""The Postgres connection: one per container, opened lazily, reused across invocations.

Why one plain connection and not a pool: a Lambda container serves one request at a time, and the
pooling is done by the serverless Postgres in front (RDS Proxy, Neon or Supabase pgbouncer in
transaction mode). That is also why ``prepare_threshold=None``: server-side prepared statements do
not survive a transaction-mode pooler. The connection runs in autocommit; anything that needs more
than one statement to be atomic uses ``transaction()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from shared.clients import registry
from shared.core.errors import ServiceUnavailableError
from shared.core.settings import get_settings

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")
_conn: psycopg.Connection | None = None


def _open() -> psycopg.Connection:
    import psycopg
    from psycopg.rows import dict_row

    settings = get_settings()
    return psycopg.connect(
        settings.database_dsn(),
        autocommit=True,
        prepare_threshold=None,
        row_factory=dict_row,
        connect_timeout=settings.db_connect_timeout_s,
        options=f"-c statement_timeout={settings.db_statement_timeout_ms}",
        application_name=settings.powertools_service_name,
    )


def get_conn() -> psycopg.Connection:
    """The container's connection, (re)opened when it is missing, closed or broken."""
    global _conn
    if _conn is None or _conn.closed or _conn.broken:
        _conn = _open()
    return _conn


def reset() -> None:
    """Close and forget the connection (tests; and after a fork).

    The local gateways run handlers on their own threads in the test process, so a reset may meet a
    statement in flight. Closing under it would free the socket while that thread still waits on its
    descriptor, which the next connection then reuses: the waiter hangs for good. So the connection
    is forgotten first and closed under its own lock, between statements.
    """
    global _conn
    conn, _conn = _conn, None
    if conn is not None:
        with conn.lock:
            conn.close()


def run(work: Callable[[psycopg.Connection], T]) -> T:
    """Run ``work(conn)``; if the connection had been dropped under us, reconnect once and retry.

    The retry only happens when the connection turned out to be broken, which means the server
    never committed anything of ``work`` (autocommit statements and explicit transactions both
    either completed before the break or did not happen). Any other failure goes through.
    """
    import psycopg

    try:
        return work(get_conn())
    except psycopg.OperationalError as exc:
        if _conn is not None and not (_conn.closed or _conn.broken):
            raise
        try:
            return work(get_conn())
        except psycopg.OperationalError:
            raise ServiceUnavailableError("the database is unreachable") from exc


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """An explicit transaction on the container's connection: all of it commits, or none."""
    conn = get_conn()
    with conn.transaction():
        yield conn


registry.register("db", reset)
