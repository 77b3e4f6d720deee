"""The Postgres connection: one per container, opened lazily, reused across invocations.

Why one plain connection and not a pool: a Lambda container serves one request at a time, and the
pooling is done by the serverless Postgres in front (RDS Proxy, Neon or Supabase pgbouncer in
transaction mode). Such a pooler hands each transaction to whichever server session is free, so this
module keeps no session state at all:

* no startup ``options`` (PgBouncer refuses them) and no session ``SET``: the server-side
  ``statement_timeout`` is a per-role setting (migration 008), which every pooled server session
  picks up when it logs in; an explicit transaction that needs another limit says ``SET LOCAL``
  (``transaction(statement_timeout_ms=…)``), which ends with the transaction;
* ``prepare_threshold=None``: server-side prepared statements do not survive the pooler either;
* advisory locks only in their transaction-scoped form (``shared.ops.migrate``).

A frozen server (or pooler) still ACKs TCP, so no socket option notices it. Every round trip is
therefore bounded on the client: ``DeadlineConnection.wait`` gives psycopg's waiting loop a timeout
(``DB_READ_TIMEOUT_S``, longer than the role's statement timeout, so a slow statement gets the
server's own clean error first). When it expires the connection is dropped and
``DatabaseDeadlineError`` (an ``OperationalError``, so the API answers the 503 envelope) is raised.

The connection runs in autocommit; anything that needs more than one statement to be atomic uses
``transaction()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from shared.clients import registry
from shared.core import deadline, tracing
from shared.core.errors import ServiceUnavailableError
from shared.core.settings import get_settings

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")
_conn: psycopg.Connection | None = None
_connection_class: type | None = None


def connection_class() -> type:
    """``psycopg.Connection`` whose every wait on the server is bounded (built on first use, so
    importing this module does not import psycopg)."""
    global _connection_class
    if _connection_class is not None:
        return _connection_class
    import psycopg
    from psycopg import errors

    class DatabaseDeadlineError(psycopg.OperationalError):
        """The server did not answer within the client-side deadline; the connection was dropped."""

    class DeadlineConnection(psycopg.Connection):
        read_timeout_s: float | None = None

        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            limit = self.read_timeout_s if timeout is None else timeout
            limit = remaining_budget(limit)
            try:
                return super().wait(gen, interval=interval, timeout=limit)
            except errors._WaitTimeout as exc:  # psycopg's wait timeout (Connection.wait docs)
                # The server may be frozen mid-statement: the connection's state is unknown, so it is
                # dropped (not cancelled: a cancel request needs the same frozen server to answer).
                self.pgconn.finish()
                raise DatabaseDeadlineError(f"the database did not answer within {limit:.1f} s") from exc

    DeadlineConnection.DeadlineError = DatabaseDeadlineError  # type: ignore[attr-defined]
    _connection_class = DeadlineConnection
    return DeadlineConnection


def deadline_error() -> type[Exception]:
    """The exception a round trip past its deadline raises (a ``psycopg.OperationalError``)."""
    return connection_class().DeadlineError  # type: ignore[attr-defined]


def remaining_budget(limit: float | None) -> float | None:
    """``limit``, shortened to what the current invocation has left (``shared.core.deadline``), if set."""
    return deadline.clamp(limit)


MIN_CONNECT_S = 2  # libpq (and psycopg) treat any shorter connect_timeout as 2 s


def _open() -> psycopg.Connection:
    from psycopg.rows import dict_row

    settings = get_settings()
    timeout = settings.db_connect_timeout_s
    left = deadline.remaining()
    if left is not None:  # a connection attempt must also end before the invocation's deadline
        if left < MIN_CONNECT_S:
            raise deadline_error()("no time left to connect to the database before the function's deadline")
        timeout = min(timeout, int(left))
    conn = connection_class().connect(
        settings.database_dsn(),
        autocommit=True,
        prepare_threshold=None,
        row_factory=dict_row,
        connect_timeout=timeout,
        application_name=settings.powertools_service_name,
    )
    conn.read_timeout_s = settings.db_read_timeout_s
    return conn


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


def _hung_up(conn: psycopg.Connection) -> bool:
    """Whether the server already hung up on an idle connection: with no statement in flight a
    healthy socket has nothing to read, so anything there (the EOF of a closed connection, the FATAL
    of a terminated backend) means it cannot carry the next statement. One poll, no round trip."""
    import select

    from psycopg import pq

    if conn.info.transaction_status != pq.TransactionStatus.IDLE or not conn.lock.acquire(blocking=False):
        return False  # another thread (local gateways, tests) is using it: its answer may be what is there
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # no usable descriptor
        return True
    finally:
        conn.lock.release()


SQL_TRACE = {"database_type": "PostgreSQL", "driver_version": "Psycopg 3"}  # the X-Ray subsegment's sql block


def run(work: Callable[[psycopg.Connection], T]) -> T:
    """Run ``work(conn)`` once (an X-Ray ``postgres`` subsegment where tracing is on, connecting included).
    Only what cannot have committed is ever retried.

    Before ``work`` sends anything, a connection that is missing, closed, broken or hung up by the
    server (``_hung_up``: a pooler or server timeout, a restart, a Lambda thawed after a long
    freeze) is replaced; that is the retry, and it is safe because nothing was sent. Once ``work``
    has sent a statement, a broken link is never retried: the server may have committed it and
    only the answer was lost (a retried create would then be a 409, a retried level-up a second
    history row), so it is a 503 ``outcome_unknown`` and the client decides (a retry with the same
    ``Idempotency-Key``, or a read of the current state). A round trip past its deadline is not
    retried either (503: the time is spent, the server is not answering). Any other failure goes through.
    """
    with tracing.subsegment("postgres", **SQL_TRACE):
        return _run(work)


def _run(work: Callable[[psycopg.Connection], T]) -> T:
    import psycopg

    try:
        conn = get_conn()
        if _hung_up(conn):
            reset()
            conn = get_conn()
    except psycopg.OperationalError as exc:
        raise ServiceUnavailableError("the database is unreachable") from exc
    try:
        return work(conn)
    except psycopg.OperationalError as exc:
        if isinstance(exc, deadline_error()):  # the time is spent and the server is not answering
            raise ServiceUnavailableError("the database did not answer in time") from exc
        if not (conn.closed or conn.broken):
            raise
        raise ServiceUnavailableError("the database connection broke during the request: it may or may not "
                                      "have taken effect; read the current state, or retry with the same "
                                      "Idempotency-Key", code="outcome_unknown") from exc


@contextmanager
def read_timeout(conn: psycopg.Connection, seconds: float | None) -> Iterator[psycopg.Connection]:
    """Give ``conn``'s round trips another client-side deadline for a while (migrations: longer)."""
    previous = getattr(conn, "read_timeout_s", None)
    conn.read_timeout_s = seconds  # type: ignore[attr-defined]
    try:
        yield conn
    finally:
        conn.read_timeout_s = previous  # type: ignore[attr-defined]


@contextmanager
def transaction(*, statement_timeout_ms: int | None = None) -> Iterator[psycopg.Connection]:
    """An explicit transaction on the container's connection: all of it commits, or none.

    ``statement_timeout_ms`` overrides the role's statement timeout with ``SET LOCAL``, which lasts
    exactly as long as this transaction (and so is safe behind a transaction-mode pooler).
    """
    with tracing.subsegment("postgres", **SQL_TRACE):
        conn = get_conn()
        with conn.transaction():
            if statement_timeout_ms is not None:
                set_local_statement_timeout(conn, statement_timeout_ms)
            yield conn


def set_local_statement_timeout(conn: psycopg.Connection, milliseconds: int) -> None:
    """``SET LOCAL statement_timeout``: only inside an explicit transaction, gone at its end."""
    conn.execute("SELECT set_config('statement_timeout', %s, true)", (f"{int(milliseconds)}ms",))


registry.register("db", reset)
