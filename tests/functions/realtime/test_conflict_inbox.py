"""The durable conflict inbox and per-operation batch validation (issue 13), through the real
handlers against the real Postgres: conflicts are change-log entries, paged and acknowledged."""

from __future__ import annotations

import uuid

import pytest

from functions.realtime.app import handler as realtime
from functions.skills.app import handler as skills
from shared.clients import db
from shared.repositories import sync
from tests.support import http_event, invoke
from tests.support.skills import call, db_one, sync_version


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def lost_update(headers) -> tuple[dict, dict]:
    """Two devices edit one skill with If-Match; the second loses: (skill, the 412's conflict)."""
    created = call(skills, "POST", "/api/v1/skills", headers, {"name": "Chess", "category": "mind", "level": 2})
    path, etag = f"/api/v1/skills/{created.json['id']}", created.headers["etag"]
    assert call(skills, "PATCH", path, {**headers, "if-match": etag}, {"level": 3}).status == 200
    lost = call(skills, "PATCH", path, {**headers, "if-match": etag}, {"level": 8})
    assert lost.status == 412, lost
    return created.json, lost.json["error"]["details"]["conflict"]


def get(headers, path, query=None):
    return invoke(realtime, http_event("GET", path, headers=headers, query=query))


def ack(headers, conflict_id):
    path = f"/api/v1/sync/conflicts/{conflict_id}/ack"
    return invoke(realtime, http_event("POST", path, route="/api/v1/sync/conflicts/{conflict_id}/ack",
                                       headers=headers, path_params={"conflict_id": str(conflict_id)}))


def test_a_device_that_was_away_sees_the_conflict_in_sync_and_in_the_inbox_until_acked(alice):
    user, headers = alice
    offline_at = sync_version(user["id"])  # the second device's last version before going away
    skill, conflict = lost_update(headers)

    delta = get(headers, "/api/v1/sync", {"since": str(offline_at)}).json
    entries = [c for c in delta["changes"] if c["entity"] == "conflict"]
    assert len(entries) == 1 and entries[0]["entity_id"] == conflict["id"] and entries[0]["op"] == "upsert"
    assert entries[0]["data"] == conflict and conflict["winner"]["level"] == 3 and conflict["loser"]["level"] == 8

    inbox = get(headers, "/api/v1/sync/conflicts")
    assert inbox.status == 200 and inbox.json == {"items": [conflict], "next_cursor": None}
    assert inbox.headers["x-sync-version"] == str(sync_version(user["id"]))

    before = sync_version(user["id"])
    done = ack(headers, conflict["id"])
    assert done.status == 204 and done.headers["x-sync-version"] == str(before + 1)
    assert get(headers, "/api/v1/sync/conflicts").json["items"] == []
    tombstone = get(headers, "/api/v1/sync", {"since": str(before)}).json["changes"]
    assert [(c["entity"], c["entity_id"], c["op"], c["data"]) for c in tombstone] == \
           [("conflict", conflict["id"], "delete", None)]
    again = ack(headers, conflict["id"])
    assert again.status == 204 and sync_version(user["id"]) == before + 1  # a second ack changes nothing
    assert skill["id"] == conflict["entity_id"]


def test_a_snapshot_carries_the_pending_conflicts(alice):
    user, headers = alice
    _, conflict = lost_update(headers)
    sync.compact(db.get_conn(), user["id"], keep=1)
    snapshot = get(headers, "/api/v1/sync", {"since": "0"}).json
    assert snapshot["mode"] == "snapshot" and snapshot["conflicts"] == [conflict]
    ack(headers, conflict["id"])
    assert get(headers, "/api/v1/sync").json["conflicts"] == []


def test_the_inbox_pages_with_a_cursor(alice):
    _, headers = alice
    ids = [lost_update(headers)[1]["id"]]
    for name in ("Go", "Tennis"):
        created = call(skills, "POST", "/api/v1/skills", headers, {"name": name, "category": "mind", "level": 2})
        stale = call(skills, "DELETE", f"/api/v1/skills/{created.json['id']}", {**headers, "if-match": '"old"'})
        ids.append(stale.json["error"]["details"]["conflict"]["id"])
    first = get(headers, "/api/v1/sync/conflicts", {"limit": "2"}).json
    second = get(headers, "/api/v1/sync/conflicts", {"limit": "2", "cursor": first["next_cursor"]}).json
    assert [c["id"] for c in first["items"] + second["items"]] == ids and second["next_cursor"] is None
    bad = get(headers, "/api/v1/sync/conflicts", {"cursor": "bm9wZQ"})
    assert bad.status == 422 and bad.json["error"]["details"][0]["field"] == "query.cursor"


def test_acking_another_users_or_a_missing_conflict_is_the_same_404(alice, make_user):
    _, headers = alice
    _, bob = make_user("bob")
    _, conflict = lost_update(bob)
    foreign, missing = ack(headers, conflict["id"]), ack(headers, uuid.uuid4())
    assert foreign.status == missing.status == 404 and foreign.json == missing.json
    assert len(get(bob, "/api/v1/sync/conflicts").json["items"]) == 1


def test_a_batch_with_one_invalid_operation_applies_the_others(alice):
    user, headers = alice
    sid = str(uuid.uuid4())
    ops = [
        {"op_id": "a", "type": "skill.create", "skill_id": sid,
         "data": {"name": "Run", "category": "fitness", "level": 2}, "updated_at": "2026-11-20T18:30:00Z"},
        {"op_id": "b", "type": "skill.update", "skill_id": sid, "data": {"level": 11},
         "updated_at": "2026-11-20T18:31:00Z"},
        {"op_id": "c", "type": "profile.update", "data": {"bio": "runner"}, "updated_at": "2026-11-20T18:32:00Z"},
        {"op_id": "d", "type": "skill.update", "skill_id": sid, "data": {"level": 4},
         "updated_at": "2026-11-20T18:33:00Z"},
    ]
    response = invoke(realtime, http_event("POST", "/api/v1/sync/batch", headers=headers, body={"operations": ops}))
    assert response.status == 200, response
    results = response.json["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied", "applied"]
    error = results[1]["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["body.operations.1.data.level"]
    assert db_one("SELECT level FROM skills WHERE id = %s", sid)["level"] == 4
    assert db_one("SELECT bio FROM users WHERE id = %s", user["id"])["bio"] == "runner"
