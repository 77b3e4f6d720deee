"""Count the work a request does: every SQL statement sent to Postgres, every HTTP call to Redis.

``sql_counter`` makes ``shared.clients.db`` open a ``CountingConnection`` (a subclass of its own
connection class), so the connection is opened exactly as in production and every
``execute`` — plus the BEGIN and COMMIT/ROLLBACK of ``conn.transaction()`` — is recorded. With
autocommit and one statement per call, statements = round trips. ``redis_counter`` hooks the
Upstash client's httpx client: one recorded request = one Redis round trip (a pipeline is one).

Usage (fixtures registered in tests/conftest.py)::

    def test_x(sql_counter, redis_counter):
        sql_counter.reset(); ...; assert sql_counter.count == 1, sql_counter.statements
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


SQL = Counter()


class CountingCursor(psycopg.Cursor):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        SQL.statements.append(str(query).strip())
        return super().execute(query, params, **kwargs)

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        SQL.statements.append(str(query).strip())
        return super().executemany(query, params_seq, **kwargs)


class CountingMixin:
    """Makes a psycopg Connection's cursors and transactions report to ``SQL``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_factory = CountingCursor

    @contextmanager
    def transaction(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        SQL.statements.append("BEGIN")
        try:
            with super().transaction(*args, **kwargs) as tx:
                yield tx
        except BaseException:
            SQL.statements.append("ROLLBACK")
            raise
        SQL.statements.append("COMMIT")


@pytest.fixture
def sql_counter(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Make ``shared.clients.db`` open a CountingConnection; the counter starts at zero."""
    from shared.clients import db

    base = db.connection_class()  # the class production connects with
    counting = type("CountingConnection", (CountingMixin, base), {})
    monkeypatch.setattr(db, "_connection_class", counting)
    db.reset()
    db.get_conn()
    SQL.reset()
    yield SQL
    db.reset()


class RedisCounter(Counter):
    def hook(self, request: Any) -> None:
        self.statements.append(f"{request.url.path} {request.content.decode()[:200]}")


@pytest.fixture
def redis_counter() -> RedisCounter:
    """Record every HTTP request the Upstash client sends (one request = one round trip)."""
    from shared.clients.redis import get_redis

    counter = RedisCounter()
    http = get_redis()._http._client  # the httpx.Client inside upstash-redis
    http.event_hooks["request"].append(counter.hook)
    yield counter
    http.event_hooks["request"].remove(counter.hook)
