"""shared.sync.fanout against real sockets through the local gateway's @connections endpoint."""

from __future__ import annotations

import json

import pytest

from shared.clients import websocket
from shared.sync import fanout as realtime
from tests.support.realtime import connection_ids, my_connection_id, open_socket, recv_json

pytestmark = pytest.mark.usefixtures("ws_gateway")
CHANGE = {"version": 7, "entity": "skill", "entity_id": "5b7b6c1e-0000-4000-8000-000000000001", "op": "upsert",
          "data": {"name": "Python", "level": 8}}


def test_publish_reaches_every_connection_of_the_user(make_user):
    user, _ = make_user()
    with open_socket(user["id"]) as a, open_socket(user["id"]) as b:
        result = realtime.publish_change(user["id"], CHANGE)
        assert (result.sent, result.gone, result.failed) == (2, [], 0)
        for sock in (a, b):
            assert recv_json(sock) == {"type": "change", **CHANGE}


def test_the_writers_connection_is_excluded(make_user):
    user, _ = make_user()
    with open_socket(user["id"]) as writer, open_socket(user["id"]) as other:
        writer_id = my_connection_id(writer)
        result = realtime.publish_change(user["id"], CHANGE, exclude_connection_id=writer_id)
        assert result.sent == 1
        assert recv_json(other)["type"] == "change"
        # Frames arrive in order: if the change had been sent to the writer, it would come before this pong.
        writer.send(json.dumps({"action": "ping"}))
        assert recv_json(writer, timeout=5)["type"] == "pong"


def test_a_stale_connection_is_deleted_on_410_but_never_the_senders(make_user, ws_gateway):
    user, _ = make_user()
    with open_socket(user["id"]) as live, open_socket(user["id"]) as stale, open_socket(user["id"]) as sender:
        stale_id, sender_id, live_id = my_connection_id(stale), my_connection_id(sender), my_connection_id(live)
        ws_gateway.drop(stale_id)   # gone without $disconnect: its row stays
        ws_gateway.drop(sender_id)  # the writer's own socket died too
        assert connection_ids(user["id"]) == {live_id, stale_id, sender_id}
        result = realtime.publish_change(user["id"], CHANGE, exclude_connection_id=sender_id)
        assert result.gone == [stale_id] and result.sent == 1
        assert connection_ids(user["id"]) == {live_id, sender_id}
        assert recv_json(live)["type"] == "change"


def test_oversized_messages_become_a_resync_hint(make_user):
    user, _ = make_user()
    big = {**CHANGE, "data": {"description": "x" * (realtime.MAX_MESSAGE_BYTES + 1)}}
    with open_socket(user["id"]) as sock:
        result = realtime.publish_change(user["id"], big)
        assert result.resync and result.sent == 1
        assert recv_json(sock) == {"type": "resync", "version": 7}


def test_no_connections_means_one_query_and_nothing_sent(make_user):
    user, _ = make_user()
    assert realtime.publish(user["id"], {"type": "x"}) == realtime.PublishResult()


def test_without_an_endpoint_publishing_is_skipped(make_user, monkeypatch):
    user, _ = make_user()
    monkeypatch.delenv("WEBSOCKET_MANAGEMENT_URL")
    from shared.clients.registry import reset_all

    reset_all()
    assert realtime.publish_change(user["id"], CHANGE).skipped


def test_publish_change_never_raises_into_the_write_path():
    result = realtime.publish_change("not-a-uuid", CHANGE)  # type: ignore[arg-type]
    assert result.skipped and result.skipped.startswith("error:")


def test_the_client_is_created_once_and_reset_forgets_it():
    first = websocket.management_client()
    assert first is websocket.management_client()
    websocket.reset()
    assert websocket.management_client() is not first
