"""Exactly once under a broken connection (issue 13): the link to Postgres is cut right after the
server committed a write (a real proxy socket, closed once the server's ReadyForQuery — sent only
after COMMIT — arrives), through the real skills handler."""

from __future__ import annotations

import os

import psycopg
import pytest

from functions.skills.app import handler as skills
from shared.clients import db
from shared.clients.registry import reset_all
from shared.core.settings import get_settings
from tests.support.pgproxy import PgProxy
from tests.support.skills import call, db_all


@pytest.fixture
def proxy(monkeypatch):
    through = PgProxy(get_settings().database_dsn())
    monkeypatch.setenv("DATABASE_URL", through.url)
    reset_all()
    yield through
    through.close()


def sent(proxy: PgProxy, fragment: str) -> int:
    return sum(fragment in text for text in proxy.statements)


def history(skill_id: str) -> list[tuple]:
    return [(r["previous_level"], r["new_level"]) for r in
            db_all("SELECT previous_level, new_level FROM skill_progress WHERE skill_id = %s ORDER BY id", skill_id)]


def test_a_level_up_whose_answer_is_lost_after_commit_is_sent_once_and_written_once(proxy, make_user):
    _, headers = make_user("alice")
    created = call(skills, "POST", "/api/v1/skills", headers, {"name": "Bass", "category": "music", "level": 3})
    assert created.status == 201
    path = f"/api/v1/skills/{created.json['id']}"

    proxy.break_after_commit(of="UPDATE skills")
    lost = call(skills, "PATCH", path, {**headers, "idempotency-key": "up-1"}, {"level": 8, "note": "gig"})
    assert proxy.broken.is_set(), "the link was cut after the server's commit"
    assert lost.status == 503 and lost.json["error"]["code"] == "outcome_unknown"
    assert sent(proxy, "UPDATE skills") == 1, "db.run must not send a statement that may have committed again"
    assert history(created.json["id"]) == [(None, 3), (3, 8)]  # committed once: one history row

    retried = call(skills, "PATCH", path, {**headers, "idempotency-key": "up-1"}, {"level": 8, "note": "gig"})
    assert retried.status == 200 and retried.json["level"] == 8
    assert history(created.json["id"]) == [(None, 3), (3, 8)]  # the retry is a no-op, not a second row


def test_a_create_whose_answer_is_lost_is_found_by_its_retry_not_a_409(proxy, make_user):
    user, headers = make_user("alice")
    body = {"name": "Drums", "category": "music", "level": 2}
    proxy.break_after_commit(of="INSERT INTO skills")
    lost = call(skills, "POST", "/api/v1/skills", {**headers, "idempotency-key": "new-1"}, body)
    assert proxy.broken.is_set() and lost.status == 503 and lost.json["error"]["code"] == "outcome_unknown"
    assert sent(proxy, "INSERT INTO skills") == 1
    retried = call(skills, "POST", "/api/v1/skills", {**headers, "idempotency-key": "new-1"}, body)
    assert retried.status == 201, retried  # the skill its first run made, not "already exists"
    assert retried.json["name"] == "Drums"
    rows = db_all("SELECT id FROM skills WHERE owner_id = %s", user["id"])
    assert [str(r["id"]) for r in rows] == [retried.json["id"]]
    again = call(skills, "POST", "/api/v1/skills", {**headers, "idempotency-key": "new-1"}, body)
    assert again.headers.get("idempotent-replayed") == "true" and again.body == retried.body


def test_a_connection_the_server_hung_up_while_idle_is_replaced_before_anything_is_sent(make_user, stack):
    """The one safe retry: the server closed the idle connection (here: pg_terminate_backend; under
    `make test-pooler` the pooler, which owns the client connection, closes it), so the next request
    reconnects before sending and succeeds."""
    _, headers = make_user("alice")
    backend = db.get_conn().info.backend_pid
    if stack.pooler is not None:
        stack.pooler.hang_up_clients()
    else:
        with psycopg.connect(get_settings().database_dsn(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (backend,))  # waits until it is gone
    response = call(skills, "POST", "/api/v1/skills", headers, {"name": "Oboe", "category": "music", "level": 1})
    assert response.status == 201, response
    if os.environ.get("ATRIBUO_POOLER") != "pgbouncer":
        # Directly, the client reconnected. Behind PgBouncer (make test-pooler) the client's link is to
        # the pooler, which itself replaces the server session it lost: the request succeeding is the proof.
        assert db.get_conn().info.backend_pid != backend


def test_a_lost_answer_to_the_idempotency_claim_itself_is_retried_safely(proxy, make_user):
    """The claim statement carries the request's own run id, so re-sending it is safe: the request
    runs once, and is not told that it is "in flight" against itself."""
    user, headers = make_user("alice")
    proxy.break_after_commit(of="INSERT INTO applied_operations")
    created = call(skills, "POST", "/api/v1/skills", {**headers, "idempotency-key": "c-1"},
                   {"name": "Harp", "category": "music", "level": 4})
    assert proxy.broken.is_set() and created.status == 201, created
    assert len(db_all("SELECT 1 FROM skills WHERE owner_id = %s", user["id"])) == 1
