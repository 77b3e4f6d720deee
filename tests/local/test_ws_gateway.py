"""The local WebSocket gateway: AWS-shaped events, routing, refusals, lifetimes, and @connections via boto3."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from local.invoker import Invoker
from local.servers import ServerThread
from local.ws_gateway import WebSocketGateway
from tests.local import ws_recorder

RECORDER = "tests.local.ws_recorder"
ROUTES = {"$connect": RECORDER, "$disconnect": RECORDER, "echo": RECORDER, "$default": RECORDER}
REFERENCE = Path(__file__).resolve().parents[2] / "events"


@contextmanager
def gateway(routes: dict[str, str] = ROUTES, **options: float) -> Iterator[tuple[WebSocketGateway, str]]:
    invoker = Invoker()
    gw = WebSocketGateway(invoker, routes, **options)
    server = ServerThread(gw).start()
    ws_recorder.events.clear()
    try:
        yield gw, server.url
    finally:
        server.stop()
        invoker.shutdown()


def _recorded(route: str, timeout: float = 5.0) -> dict:
    """The first recorded event for ``route`` (handlers run on the invoker thread: wait for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in ws_recorder.events if e["requestContext"]["routeKey"] == route]
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError(f"no {route} event")


def _client(url: str):
    return boto3.client("apigatewaymanagementapi", endpoint_url=url, region_name="us-east-1")


def test_connect_event_has_the_aws_shape():
    with gateway() as (_, url), connect(url.replace("http", "ws") + "/?ticket=t&a=1&a=2", user_agent_header="ua/1"):
        event = _recorded("$connect")
    reference = json.loads((REFERENCE / "event-ws-connect.json").read_text())
    assert set(reference["requestContext"]) <= set(event["requestContext"])
    ctx = event["requestContext"]
    assert (ctx["routeKey"], ctx["eventType"], ctx["stage"], ctx["messageDirection"]) == ("$connect", "CONNECT",
                                                                                         "local", "IN")
    assert ctx["identity"]["sourceIp"] == "127.0.0.1" and len(ctx["connectionId"]) == 16
    assert event["headers"]["Sec-WebSocket-Key"] == event["multiValueHeaders"]["Sec-WebSocket-Key"][0]
    assert event["headers"]["User-Agent"] == "ua/1"
    assert event["queryStringParameters"] == {"ticket": "t", "a": "2"}
    assert event["multiValueQueryStringParameters"]["a"] == ["1", "2"]


@pytest.mark.parametrize("status", [401, 403, 500])
def test_a_non_2xx_connect_refuses_the_upgrade_with_that_status(status):
    with gateway() as (gw, url), pytest.raises(InvalidStatus) as refused:
        connect(url.replace("http", "ws") + f"/?status={status}")
    assert refused.value.response.status_code == status
    assert gw.sockets == {}


def test_frames_are_routed_by_action_else_default_and_disconnect_gets_the_close_code():
    with gateway() as (_, url):
        with connect(url.replace("http", "ws")) as sock:
            sock.send(json.dumps({"action": "echo", "n": 1}))
            sock.send(json.dumps({"action": "nothing-like-it"}))
            sock.send("not json")
            sock.send(json.dumps({"action": "echo", "crash": True}))
            crash = json.loads(sock.recv(timeout=5))
            assert crash["message"] == "Internal server error" and crash["connectionId"]
        messages = [e for e in ws_recorder.events if e["requestContext"]["eventType"] == "MESSAGE"]
        assert [m["requestContext"]["routeKey"] for m in messages] == ["echo", "$default", "$default", "echo"]
        assert messages[0]["body"] == '{"action": "echo", "n": 1}' and messages[0]["isBase64Encoded"] is False
        assert "headers" not in messages[0]
        disconnect = _recorded("$disconnect")
        assert disconnect["requestContext"]["disconnectStatusCode"] == 1000


def test_without_a_default_route_an_unmatched_frame_is_forbidden():
    with gateway({"$connect": RECORDER}) as (_, url), connect(url.replace("http", "ws")) as sock:
        sock.send(json.dumps({"action": "echo"}))
        assert json.loads(sock.recv(timeout=5))["message"] == "Forbidden"


def test_management_endpoint_works_with_boto3_unchanged():
    with gateway() as (gw, url), connect(url.replace("http", "ws")) as sock:
        cid = _recorded("$connect")["requestContext"]["connectionId"]
        client = _client(url)
        client.post_to_connection(ConnectionId=cid, Data=b'{"hello": "there"}')
        assert json.loads(sock.recv(timeout=5)) == {"hello": "there"}
        info = client.get_connection(ConnectionId=cid)
        assert info["Identity"]["SourceIp"] == "127.0.0.1" and info["ConnectedAt"] <= info["LastActiveAt"]
        with pytest.raises(client.exceptions.PayloadTooLargeException):
            client.post_to_connection(ConnectionId=cid, Data=b"x" * (128 * 1024 + 1))
        with pytest.raises(client.exceptions.GoneException):
            client.post_to_connection(ConnectionId="Z" * 15 + "=", Data=b"{}")
        with pytest.raises(client.exceptions.GoneException):
            client.get_connection(ConnectionId="Z" * 15 + "=")
        client.delete_connection(ConnectionId=cid)
        with pytest.raises(ConnectionClosed):
            sock.recv(timeout=5)
        assert _recorded("$disconnect")["requestContext"]["connectionId"] == cid
        with pytest.raises(client.exceptions.GoneException):
            client.post_to_connection(ConnectionId=cid, Data=b"{}")
        assert gw.sockets == {}


def test_idle_connections_are_closed_going_away():
    with gateway(idle_timeout_s=0.3) as (_, url), connect(url.replace("http", "ws")) as sock:
        with pytest.raises(ConnectionClosed) as closed:
            sock.recv(timeout=10)
        assert closed.value.rcvd.code == 1001
        assert _recorded("$disconnect")["requestContext"]["disconnectStatusCode"] == 1001


def test_the_maximum_lifetime_closes_even_a_busy_connection():
    with gateway(idle_timeout_s=60, max_lifetime_s=0.5) as (_, url), connect(url.replace("http", "ws")) as sock:
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(200):
                sock.send(json.dumps({"action": "echo"}))
                time.sleep(0.05)
        assert closed.value.rcvd.code == 1001


def test_drop_closes_without_disconnect():
    with gateway() as (gw, url), connect(url.replace("http", "ws")) as sock:
        cid = _recorded("$connect")["requestContext"]["connectionId"]
        assert gw.drop(cid)
        with pytest.raises(ConnectionClosed):
            sock.recv(timeout=5)
        time.sleep(0.2)
        assert not [e for e in ws_recorder.events if e["requestContext"]["routeKey"] == "$disconnect"]
