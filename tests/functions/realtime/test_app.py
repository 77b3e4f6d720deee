"""POST /api/v1/realtime/ticket and GET /api/v1/sync through the real handler."""

from __future__ import annotations

import pytest

from functions.realtime.app import handler
from shared.clients import db
from shared.clients.registry import reset_all
from shared.identity.tickets import redeem_ticket
from shared.repositories import sync
from shared.sync.delta import PAGE_SIZE as SYNC_PAGE_SIZE
from tests.support import http_event, invoke, load_event
from tests.support.realtime import add_changes, add_skill


def _event(name: str, headers: dict[str, str], query: dict[str, str] | None = None) -> dict:
    event = load_event(name)
    event["headers"]["authorization"] = headers["authorization"]
    if query is not None:
        event["queryStringParameters"] = query or None
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    return event


def _sync(headers: dict[str, str], **query: str):
    return invoke(handler, _event("event-get-sync", headers, query))


def test_ticket_is_single_use_for_the_caller_and_carried_in_the_url(make_user, monkeypatch):
    monkeypatch.setenv("WEBSOCKET_URL", "wss://ws.example.test/prod")
    reset_all()
    user, headers = make_user()
    response = invoke(handler, _event("event-post-realtime-ticket", headers))
    assert response.status == 201, response
    body = response.json
    assert body["expires_in"] == 60
    assert body["url"] == f"wss://ws.example.test/prod?ticket={body['ticket']}"
    assert response.headers["cache-control"] == "no-store"
    assert redeem_ticket(body["ticket"]) == user["id"]
    assert redeem_ticket(body["ticket"]) is None


def test_ticket_needs_a_token_and_a_configured_stage(make_user, monkeypatch):
    assert invoke(handler, http_event("POST", "/api/v1/realtime/ticket")).status == 401
    monkeypatch.delenv("WEBSOCKET_URL", raising=False)
    reset_all()
    _, headers = make_user()
    response = invoke(handler, _event("event-post-realtime-ticket", headers))
    assert response.status == 503 and response.json["error"]["code"] == "service_unavailable"


def test_changes_after_since_in_order_paged_with_the_version_header(make_user):
    user, headers = make_user()
    add_changes(user["id"], 1000)
    first = _sync(headers, since="100")
    assert first.status == 200 and first.headers["x-sync-version"] == "1000"
    body = first.json
    assert body["mode"] == "changes" and body["version"] == 1000 and body["has_more"]
    assert [c["version"] for c in body["changes"]] == list(range(101, 101 + SYNC_PAGE_SIZE))
    second = _sync(headers, since=str(body["next"])).json
    assert [c["version"] for c in second["changes"]] == list(range(101 + SYNC_PAGE_SIZE, 1001))
    assert second["has_more"] is False and second["next"] is None
    change = second["changes"][0]
    assert set(change) == {"version", "entity", "entity_id", "op", "data", "created_at"}


def test_a_compacted_log_or_no_since_gives_a_snapshot_equal_to_the_rows(make_user):
    user, headers = make_user()
    add_changes(user["id"], 50)
    skill = add_skill(user["id"], "Go", 3)
    sync.compact(db.get_conn(), user["id"], keep=10)
    for query in ({"since": "3"}, {}):
        response = _sync(headers, **query)
        body = response.json
        assert response.status == 200 and body["mode"] == "snapshot" and body["version"] == 50
        assert response.headers["x-sync-version"] == "50"
        assert [(s["id"], s["name"], s["level"]) for s in body["skills"]] == [(str(skill["id"]), "Go", 3)]
        assert body["profile"]["id"] == str(user["id"]) and body["profile"]["username"] == "alice"


@pytest.mark.parametrize("since", ["-1", "abc", "1.5", str(2**63)])
def test_bad_since_is_422(make_user, since):
    _, headers = make_user()
    response = _sync(headers, since=since)
    assert response.status == 422 and response.json["error"]["details"][0]["field"] == "query.since"


def test_since_ahead_of_the_server_is_409_with_the_real_version(make_user):
    user, headers = make_user()
    add_changes(user["id"], 5)
    response = _sync(headers, since="6")
    assert response.status == 409 and response.json["error"]["code"] == "version_ahead"
    assert response.headers["x-sync-version"] == "5"
    assert _sync(headers, since="5").json["changes"] == []


def test_sync_needs_a_token():
    assert invoke(handler, http_event("GET", "/api/v1/sync", query={"since": "0"})).status == 401


def _batch(headers: dict[str, str], body: dict | None = None):
    event = _event("event-post-sync-batch", headers)
    if body is not None:
        import json

        event["body"] = json.dumps(body)
        event["headers"]["content-length"] = str(len(event["body"]))
    return invoke(handler, event)


def test_the_recorded_offline_batch_applies_once_and_replays_identically(make_user):
    user, headers = make_user()
    first, replay = _batch(headers), _batch(headers)
    assert first.status == replay.status == 200
    assert [r["status"] for r in first.json["results"]] == ["applied", "applied"]
    assert [r["replayed"] for r in replay.json["results"]] == [True, True]
    # the create 1 (first_skill 2), the level-up 3 (first_level_up 4)
    assert first.json["version"] == replay.json["version"] == 4
    assert first.headers["x-sync-version"] == replay.headers["x-sync-version"] == "4"
    listed = db.get_conn().execute("SELECT name, level FROM skills WHERE owner_id = %s", (user["id"],)).fetchall()
    assert listed == [{"name": "Climbing", "level": 3}]


@pytest.mark.parametrize("body", [
    {"operations": []},
    {"operations": "not a list"},
    {"operations": [{}] * 101},
    {"operations": [], "owner_id": "5f0c6a52-8d1e-4b8e-9a0a-1c2d3e4f5a6b"},
])
def test_a_bad_batch_is_a_422_naming_the_field_and_changes_nothing(make_user, body):
    user, headers = make_user()
    response = _batch(headers, body)
    assert response.status == 422, response
    assert response.json["error"]["details"][0]["field"].startswith("body")
    assert db.get_conn().execute("SELECT sync_version FROM users WHERE id = %s", (user["id"],)).fetchone() == \
        {"sync_version": 0}


def test_a_snapshot_equals_what_the_list_endpoints_return(make_user):
    from functions.profiles.app import handler as profiles
    from functions.skills.app import handler as skills_handler

    user, headers = make_user()
    for name, level in [("zig", 2), ("Ada", 5), ("cobol", 1)]:
        created = invoke(skills_handler, http_event("POST", "/api/v1/skills", headers=headers,
                                                    body={"name": name, "category": "programming", "level": level}))
        assert created.status == 201
    add_changes(user["id"], 20)
    sync.compact(db.get_conn(), user["id"], keep=5)
    snapshot = _sync(headers, since="1").json
    listed = invoke(skills_handler, http_event("GET", "/api/v1/skills", headers=headers, query={"limit": "100"})).json
    profile = invoke(profiles, http_event("GET", "/api/v1/me/profile", headers=headers)).json
    assert snapshot["mode"] == "snapshot"
    assert snapshot["skills"] == listed["items"]
    assert snapshot["profile"] == profile
