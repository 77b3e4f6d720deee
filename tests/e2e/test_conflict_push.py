"""End to end (issue 13): a REST write refused by If-Match is pushed to my other device as a
``conflict``, and acknowledging it pushes the tombstone, through the local HTTP and WebSocket
gateways with a real WebSocket client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.gateway import local_api
from tests.support.realtime import hello_id, recv_json

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("ws_gateway")]


@pytest.fixture(scope="module")
def api(stack) -> Iterator[httpx.Client]:
    with local_api(timeout=10) as client:
        yield client


def test_a_refused_rest_write_reaches_my_other_device_and_its_ack_clears_it(api, make_user):
    _, auth = make_user("alice")
    created = api.post("/api/v1/skills", json={"name": "Go", "category": "mind", "level": 2}, headers=auth)
    assert created.status_code == 201
    path, etag = f"/api/v1/skills/{created.json()['id']}", created.headers["etag"]
    assert api.patch(path, json={"level": 3}, headers={**auth, "if-match": etag}).status_code == 200
    ticket = api.post("/api/v1/realtime/ticket", headers=auth).json()["url"]
    with connect(ticket) as other_device:
        hello_id(other_device)  # every new connection gets hello first, unasked (issue 12)
        refused = api.patch(path, json={"level": 9}, headers={**auth, "if-match": etag})
        assert refused.status_code == 412
        notice = recv_json(other_device, timeout=2.0)
        conflict = refused.json()["error"]["details"]["conflict"]
        assert notice["type"] == "conflict" and notice["id"] == conflict["id"]
        assert notice["winner"]["level"] == 3 and notice["loser"]["level"] == 9
        assert notice["version"] == int(refused.headers["x-sync-version"])
        acked = api.post(f"/api/v1/sync/conflicts/{conflict['id']}/ack", headers=auth)
        assert acked.status_code == 204
        cleared = recv_json(other_device, timeout=2.0)
        assert (cleared["type"], cleared["entity"], cleared["entity_id"], cleared["op"]) == \
               ("change", "conflict", conflict["id"], "delete")
