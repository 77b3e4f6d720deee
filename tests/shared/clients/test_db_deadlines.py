"""Postgres that is slow or silent: the request answers the 503 envelope, it never hangs.

These run as they are under ``make test`` and, under ``make test-pooler``, through PgBouncer in
transaction mode: the timeouts must survive the pooler, which keeps no per-connection setting.
"""

from __future__ import annotations

import psycopg
import pytest

from functions.skills.app import handler
from shared.clients import db
from shared.clients.registry import reset_all
from shared.core.settings import get_settings
from tests.support.freeze import frozen, postgres_pids, within
from tests.support.skills import call

GUARD_S = 30  # several times every limit involved (5 s statement timeout, 6 s read deadline)


def _assert_envelope_503(response) -> None:
    assert response.status == 503, response
    assert response.json["error"]["code"] == "service_unavailable"
    assert set(response.json) == {"error"}


def test_a_lock_held_past_the_statement_timeout_is_a_503(make_user, monkeypatch):
    """The server-side limit alone: the client deadline is moved far out of the way, so only the
    role's statement_timeout (migration 008) can end the wait."""
    monkeypatch.setenv("DB_READ_TIMEOUT_S", "600")
    reset_all()
    _, headers = make_user("alice")
    with psycopg.connect(get_settings().database_dsn()) as locker:
        locker.execute("LOCK TABLE skills IN ACCESS EXCLUSIVE MODE")
        response = within(GUARD_S, lambda: call(handler, "GET", "/api/v1/skills", headers))
    _assert_envelope_503(response)
    assert call(handler, "GET", "/api/v1/skills", headers).status == 200  # and then it serves again


def test_set_local_ends_with_its_transaction():
    conn = db.get_conn()
    with db.transaction(statement_timeout_ms=250) as tx:
        assert tx.execute("SHOW statement_timeout").fetchone()["statement_timeout"] == "250ms"
        with pytest.raises(psycopg.errors.QueryCanceled):
            tx.execute("SELECT pg_sleep(5)")
    assert conn.execute("SHOW statement_timeout").fetchone()["statement_timeout"] == "5s"


def test_a_frozen_postgres_is_a_503_not_a_hang(stack, make_user, monkeypatch):
    """SIGSTOP: the server's kernel still holds the socket, nothing answers; only the client's own
    deadline on each round trip ends the wait (then the connection is dropped, never reused)."""
    if stack.postgres is None:
        pytest.fail("needs the embedded Postgres (DATABASE_URL points elsewhere)")
    monkeypatch.setenv("DB_READ_TIMEOUT_S", "1.5")
    monkeypatch.setenv("DB_CONNECT_TIMEOUT_S", "2")
    reset_all()
    _, headers = make_user("alice")  # the connection is open before the freeze
    with frozen(postgres_pids(stack.postgres.server)):
        response = within(GUARD_S, lambda: call(handler, "GET", "/api/v1/skills", headers))
        _assert_envelope_503(response)
        again = within(GUARD_S, lambda: call(handler, "GET", "/api/v1/skills", headers))  # a new connection
        _assert_envelope_503(again)
    assert call(handler, "GET", "/api/v1/skills", headers).status == 200


def test_no_connection_is_attempted_when_the_invocation_has_no_time_left_for_one(make_user):
    """1.5 s left (a 2.5 s function minus the 1 s margin) is less than the shortest connect timeout
    libpq honours (2 s): the 503 comes at once instead of a connect that could outlive the function."""
    from local.lambda_context import LambdaContext
    from tests.support.events import Response, http_event

    _, headers = make_user("alice")
    reset_all()  # no open connection: the request has to connect
    event = http_event("GET", "/api/v1/skills", headers=headers)
    _assert_envelope_503(Response(handler(event, LambdaContext(timeout_s=2.5))))
    reset_all()
    again = http_event("GET", "/api/v1/skills", headers=headers)
    assert Response(handler(again, LambdaContext(timeout_s=10))).status == 200
