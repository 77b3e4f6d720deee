"""End to end with real clients: tickets over HTTP, devices over WebSocket, pushes via publish_change.

Two devices of one user connect through the local gateways; a change published for that user
reaches the other device within a second (a functional deadline, not a performance assertion); a
device whose socket died without $disconnect is removed on the next fan-out; another user's device
never receives it; bad tickets are refused at the upgrade.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from shared.sync.fanout import publish_change
from tests.support.gateway import local_api
from tests.support.realtime import add_changes, connection_ids, expire_ticket, hello_id, recv_json

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("ws_gateway")]


@pytest.fixture(scope="module")
def api(stack) -> Iterator[httpx.Client]:
    with local_api(timeout=10) as client:
        yield client


def _ticket_url(api: httpx.Client, headers: dict[str, str]) -> str:
    response = api.post("/api/v1/realtime/ticket", headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["url"]


def test_a_change_reaches_my_other_device_and_a_dead_one_is_cleaned_up(api, make_user, ws_gateway):
    alice, alice_auth = make_user("alice")
    _, bob_auth = make_user("bob")
    with connect(_ticket_url(api, alice_auth)) as device_a, connect(_ticket_url(api, alice_auth)) as device_b, \
            connect(_ticket_url(api, alice_auth)) as device_c, connect(_ticket_url(api, bob_auth)) as bobs:
        a_id, c_id = hello_id(device_a), hello_id(device_c)
        hello_id(device_b), hello_id(bobs)
        ws_gateway.drop(c_id)  # device C vanished without $disconnect: its row remains
        assert c_id in connection_ids(alice["id"])

        version = add_changes(alice["id"], 1)
        change = {"version": version, "entity": "skill", "entity_id": "0b1c2d3e-0000-4000-8000-00000000000a",
                  "op": "upsert", "data": {"name": "Python", "level": 9}}
        result = publish_change(alice["id"], change, exclude_connection_id=a_id)

        assert recv_json(device_b, timeout=1.0) == {"type": "change", **change}
        assert result.sent == 1 and result.gone == [c_id]
        assert c_id not in connection_ids(alice["id"]) and a_id in connection_ids(alice["id"])
        for sock in (device_a, bobs):  # the writer and the other user get nothing before their pong
            sock.send(json.dumps({"action": "ping"}))
            assert recv_json(sock, timeout=5)["type"] == "pong"

        sync = api.get("/api/v1/sync", params={"since": version - 1}, headers=alice_auth)
        assert sync.headers["x-sync-version"] == str(version)
        assert [c["version"] for c in sync.json()["changes"]] == [version]


def test_bad_tickets_are_refused_at_the_upgrade(api, make_user):
    _, auth = make_user()
    base = _ticket_url(api, auth).split("?")[0]
    used = _ticket_url(api, auth)
    with connect(used):
        pass
    expired = _ticket_url(api, auth)
    expire_ticket(expired)
    cases = {base: 401, f"{base}?ticket=": 401, f"{base}?ticket={'A' * 43}": 403, used: 403, expired: 403,
             f"{base}?ticket=../etc/passwd": 403}
    for url, status in cases.items():
        with pytest.raises(InvalidStatus) as refused:
            connect(url)
        assert refused.value.response.status_code == status, url


def _skill(api: httpx.Client, auth: dict[str, str]) -> dict:
    response = api.post("/api/v1/skills", json={"name": "Guitar", "category": "music", "level": 3}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_patch_from_device_a_reaches_device_b_and_cleans_up_a_dead_socket_of_a(api, make_user, ws_gateway):
    alice, auth = make_user("alice")
    _, bob_auth = make_user("bob")
    skill = _skill(api, auth)
    with connect(_ticket_url(api, auth)) as old_a, connect(_ticket_url(api, auth)) as device_a, \
            connect(_ticket_url(api, auth)) as device_b, connect(_ticket_url(api, bob_auth)) as bobs:
        old_id, a_id = hello_id(old_a), hello_id(device_a)
        hello_id(device_b), hello_id(bobs)
        ws_gateway.drop(old_id)  # A's previous socket died without $disconnect

        patch = api.patch(f"/api/v1/skills/{skill['id']}", json={"level": 5, "note": "gig"},
                          headers={**auth, "x-connection-id": a_id})
        assert patch.status_code == 200, patch.text

        pushed = recv_json(device_b, timeout=1.0)
        assert pushed["type"] == "change" and pushed["entity_id"] == skill["id"] and pushed["data"]["level"] == 5
        # then the achievements this level-up earned (first level-up, level 5), each its own version;
        # the response's X-Sync-Version is the last of them
        awards = [recv_json(device_b, timeout=1.0) for _ in range(2)]
        assert [(a["entity"], a["data"]["code"]) for a in awards] == [
            ("achievement", "first_level_up"), ("achievement", "skill_level_5")]
        assert [pushed["version"], *(a["version"] for a in awards)] == list(
            range(pushed["version"], int(patch.headers["x-sync-version"]) + 1))
        assert old_id not in connection_ids(alice["id"]), "the dead socket is removed on this fan-out"
        assert a_id in connection_ids(alice["id"])
        for sock in (device_a, bobs):  # the writer's device and the other user got nothing
            sock.send(json.dumps({"action": "ping"}))
            assert recv_json(sock, timeout=5)["type"] == "pong"


def test_an_offline_conflict_is_announced_to_my_other_device(api, make_user):
    _, auth = make_user("alice")
    skill = _skill(api, auth)
    newer = api.patch(f"/api/v1/skills/{skill['id']}", json={"level": 8}, headers=auth)
    assert newer.status_code == 200
    with connect(_ticket_url(api, auth)) as device_b:
        hello_id(device_b)
        old_edit = {"op_id": "phone-17", "type": "skill.update", "skill_id": skill["id"], "data": {"level": 2},
                    "updated_at": skill["updated_at"], "base_updated_at": skill["updated_at"]}
        response = api.post("/api/v1/sync/batch", json={"operations": [old_edit]}, headers=auth)
        assert response.status_code == 200, response.text
        result = response.json()["results"][0]
        assert result["status"] == "conflict" and result["entity"]["level"] == 8
        notice = recv_json(device_b, timeout=1.0)
        assert notice["type"] == "conflict" and notice["winner"]["level"] == 8 and notice["loser"]["level"] == 2
