"""ping and $default through the real handler; replies arrive on a real socket via @connections."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed

from functions.ws_message.app import handler
from shared.clients import db
from tests.support import load_event
from tests.support.realtime import add_changes, connection_ids, open_socket, recv_json

pytestmark = pytest.mark.usefixtures("ws_gateway")


def _event(name: str, connection_id: str, body: str | None = None) -> dict:
    event = load_event(name)
    event["requestContext"]["connectionId"] = connection_id
    if body is not None:
        event["body"] = body
    return event


def test_ping_answers_pong_with_the_users_version_and_the_connection_id(make_user):
    user, _ = make_user()
    add_changes(user["id"], 3)
    with open_socket(user["id"]) as sock:
        (cid,) = connection_ids(user["id"])
        assert handler(_event("event-ws-ping", cid), None) == {"statusCode": 200}
        assert recv_json(sock) == {"type": "pong", "version": 3, "connection_id": cid}


@pytest.mark.parametrize(("body", "code", "text"), [
    ('{"action": "shout", "message": "hello"}', "unknown_action", "unknown action 'shout'; supported: ping"),
    ("not json", "invalid_message", "JSON"),
    ('{"message": "no action"}', "missing_action", "action"),
])
def test_default_route_explains_what_was_wrong(make_user, body, code, text):
    user, _ = make_user()
    with open_socket(user["id"]) as sock:
        (cid,) = connection_ids(user["id"])
        assert handler(_event("event-ws-default", cid, body), None)["statusCode"] == 400
        reply = recv_json(sock)
        assert reply["type"] == "error" and reply["code"] == code and text in reply["message"]


def test_ping_on_an_unregistered_connection_says_so_and_closes_it(make_user):
    user, _ = make_user()
    with open_socket(user["id"]) as sock:
        (cid,) = connection_ids(user["id"])
        db.get_conn().execute("DELETE FROM ws_connections")
        assert handler(_event("event-ws-ping", cid), None)["statusCode"] == 410
        assert recv_json(sock)["code"] == "not_registered"
        with pytest.raises(ConnectionClosed):
            sock.recv(timeout=5)


def test_the_recorded_message_event_shape_is_accepted(make_user):
    user, _ = make_user()
    with open_socket(user["id"]) as sock:
        (cid,) = connection_ids(user["id"])
        event = _event("event-ws-ping", cid)
        assert json.loads(event["body"]) == {"action": "ping"} and event["isBase64Encoded"] is False
        handler(event, None)
        assert recv_json(sock)["type"] == "pong"
