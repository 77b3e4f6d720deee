"""Idempotency-Key through the real skills handler against the real Postgres (issue 13)."""

from __future__ import annotations

import pytest

from functions.skills.app import handler as skills
from shared.clients import db
from shared.repositories import operations
from tests.support.skills import call, db_all, db_one

BODY = {"name": "Piano", "category": "music", "level": 2}
PER_REQUEST = {"x-request-id", "idempotent-replayed"}


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def post(headers, key, body=BODY):
    return call(skills, "POST", "/api/v1/skills", {**headers, "idempotency-key": key}, body)


def same_answer(first, second) -> None:
    assert (second.status, second.body) == (first.status, first.body)
    strip = lambda h: {k: v for k, v in h.items() if k not in PER_REQUEST}  # noqa: E731
    assert strip(second.headers) == strip(first.headers)


def test_the_same_post_twice_creates_one_skill_and_answers_identically(alice):
    user, headers = alice
    first, second = post(headers, "k-1"), post(headers, "k-1")
    assert first.status == 201 and "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    same_answer(first, second)
    assert len(db_all("SELECT 1 FROM skills WHERE owner_id = %s", user["id"])) == 1
    assert len(db_all("SELECT 1 FROM skill_progress WHERE owner_id = %s", user["id"])) == 1


def test_the_same_key_with_another_body_is_a_422(alice):
    _, headers = alice
    post(headers, "k-2")
    reused = post(headers, "k-2", {**BODY, "level": 3})
    assert reused.status == 422 and reused.json["error"]["code"] == "idempotency_key_reused"
    other_path = call(skills, "DELETE", "/api/v1/skills/7d7b3f57-53bb-4c3d-8f57-0a8f25dd8d33",
                      {**headers, "idempotency-key": "k-2"})
    assert other_path.status == 422


def test_error_answers_are_kept_too_and_keys_are_per_user(alice, make_user):
    _, headers = alice
    post(headers, "a")
    duplicate = post(headers, "b")  # same name, another key: a real 409
    assert duplicate.status == 409
    same_answer(duplicate, post(headers, "b"))
    _, bob = make_user("bob")
    assert post(bob, "a").status == 201  # bob's "a" is not alice's


def test_patch_and_delete_replay_instead_of_running_again(alice):
    user, headers = alice
    skill = post(headers, "c").json
    path = f"/api/v1/skills/{skill['id']}"
    patch = [call(skills, "PATCH", path, {**headers, "idempotency-key": "p"}, {"level": 5}) for _ in range(2)]
    same_answer(*patch)
    gone = [call(skills, "DELETE", path, {**headers, "idempotency-key": "d"}) for _ in range(2)]
    assert [g.status for g in gone] == [204, 204]  # the retry gets the 204, not a 404
    same_answer(*gone)
    assert db_one("SELECT count(*) AS n FROM changes WHERE owner_id = %s AND entity = 'skill'", user["id"])["n"] == 3
    # and the achievements the create and the level-up earned, each once: first_skill, first_level_up, skill_level_5
    assert db_one("SELECT count(*) AS n FROM changes WHERE owner_id = %s", user["id"])["n"] == 3 + 3


def test_a_retry_while_the_first_runs_is_a_409_and_a_bad_key_a_422(alice):
    user, headers = alice
    operations.claim_request(db.get_conn(), user["id"], "@busy", "whatever", run="r", ttl_s=60)
    busy = call(skills, "DELETE", "/api/v1/skills/7d7b3f57-53bb-4c3d-8f57-0a8f25dd8d33",
                {**headers, "idempotency-key": "busy"})
    assert busy.status == 422  # another request hash: reuse, even while in flight
    post(headers, "busy2")  # then back to "claimed, no answer yet", as while the first still runs
    db.get_conn().execute("UPDATE applied_operations SET result = result - 'status' WHERE op_id = '@busy2'")
    in_flight = post(headers, "busy2")
    assert in_flight.status == 409 and in_flight.json["error"]["code"] == "idempotency_in_flight"
    assert in_flight.headers["retry-after"] == "1"
    bad = post(headers, "x" * 100)
    assert bad.status == 422 and bad.json["error"]["details"][0]["field"] == "header.idempotency-key"


def test_a_create_whose_answer_was_lost_finds_its_skill_when_run_again(alice):
    """The first run committed but its answer was never stored (the link broke): the key was freed,
    and the re-run with the same key answers with the skill the first run made, not a 409."""
    user, headers = alice
    first = post(headers, "lost")
    db.get_conn().execute("DELETE FROM applied_operations WHERE op_id = '@lost'")  # as if never stored
    again = post(headers, "lost")
    assert again.status == 201 and again.json == first.json
    assert len(db_all("SELECT 1 FROM skills WHERE owner_id = %s", user["id"])) == 1


def test_keys_expire_and_maintenance_purges_them(alice):
    user, headers = alice
    post(headers, "old")
    db.get_conn().execute("UPDATE applied_operations SET created_at = now() - interval '25 hours'")
    rerun = post(headers, "old")
    assert rerun.status == 201 and "idempotent-replayed" not in rerun.headers  # expired: a new request
    conn = db.get_conn()
    conn.execute("INSERT INTO applied_operations (owner_id, op_id, result, created_at) VALUES "
                 "(%s, 'batch-op', '{}', now() - interval '25 hours')", (user["id"],))
    conn.execute("UPDATE applied_operations SET created_at = now() - interval '25 hours'")
    purged = operations.purge_applied(conn, retention_s=30 * 86400, key_ttl_s=86400, limit=100)
    assert purged == 1
    assert [r["op_id"] for r in db_all("SELECT op_id FROM applied_operations")] == ["batch-op"]


def test_without_a_valid_token_the_key_changes_nothing(alice):
    anonymous = call(skills, "POST", "/api/v1/skills", {"idempotency-key": "z"}, BODY)
    assert anonymous.status == 401
    assert db_all("SELECT 1 FROM applied_operations") == []


def test_no_store_answers_are_never_kept(alice, monkeypatch):
    """A single-use ticket (like a token pair) is a secret: not stored at rest, not replayed."""
    from functions.realtime.app import handler as realtime
    from shared.clients.registry import reset_all
    from tests.support import http_event, invoke

    monkeypatch.setenv("WEBSOCKET_URL", "wss://ws.example.test/prod")
    reset_all()
    _, headers = alice
    tickets = [invoke(realtime, http_event("POST", "/api/v1/realtime/ticket", headers={**headers,
                                                                                    "idempotency-key": "t"}))
               for _ in range(2)]
    assert [t.status for t in tickets] == [201, 201] and tickets[0].json["ticket"] != tickets[1].json["ticket"]
    assert db_all("SELECT 1 FROM applied_operations") == []


def test_a_token_whose_account_is_gone_is_a_401_not_a_500(alice):
    user, headers = alice
    db.get_conn().execute("DELETE FROM users WHERE id = %s", (user["id"],))
    gone = post(headers, "k")
    assert gone.status == 401 and gone.json["error"]["code"] == "unauthorized"
