"""The ``hello`` frame: a new connection learns its id and the current version without asking.

Real WebSocket clients through the local gateway; ``$connect`` invokes the hello function through
the local Lambda Invoke API with boto3, as it does in AWS.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from websockets.sync.client import connect

from functions.ws_hello.app import handler as hello_handler
from shared.clients import db
from shared.repositories import connections
from tests.support.realtime import add_changes, connection_ids, open_socket_with_hello, recv_json, ticket_url

pytestmark = pytest.mark.usefixtures("ws_gateway")


def lambda_client():
    return boto3.client("lambda", endpoint_url=os.environ["AWS_ENDPOINT_URL_LAMBDA"])


def test_a_new_connection_gets_hello_without_sending_anything(make_user):
    user, _ = make_user()
    version = add_changes(user["id"], 3)
    with connect(ticket_url(user["id"]), open_timeout=15) as sock:
        hello = recv_json(sock, timeout=10)
        assert hello == {"type": "hello", "connection_id": hello["connection_id"], "version": version}
        assert connection_ids(user["id"]) == {hello["connection_id"]}
        # the id is the one the server knows this socket by: ping answers with the same
        sock.send(json.dumps({"action": "ping"}))
        assert recv_json(sock, timeout=5) == {"type": "pong", "version": version,
                                              "connection_id": hello["connection_id"]}


def test_every_connection_gets_its_own_hello(make_user):
    user, _ = make_user()
    (a, hello_a), (b, hello_b) = open_socket_with_hello(user["id"]), open_socket_with_hello(user["id"])
    with a, b:
        assert hello_a["connection_id"] != hello_b["connection_id"]
        assert connection_ids(user["id"]) == {hello_a["connection_id"], hello_b["connection_id"]}
        assert hello_a["version"] == hello_b["version"] == 0


def test_the_invoke_api_answers_like_lambda():
    client = lambda_client()
    queued = client.invoke(FunctionName="WsHelloFunction", InvocationType="Event",
                           Payload=json.dumps({"connection_id": "nobody-here="}).encode())
    assert queued["StatusCode"] == 202
    answered = client.invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:WsHelloFunction",
                             Payload=json.dumps({"connection_id": "nobody-here="}).encode())
    assert answered["StatusCode"] == 200 and "FunctionError" not in answered
    assert json.loads(answered["Payload"].read()) == {"sent": False, "reason": "not_registered"}
    crashed = client.invoke(FunctionName="WsHelloFunction", Payload=b"{}")  # no connection_id: a KeyError
    assert crashed["FunctionError"] == "Unhandled"
    assert json.loads(crashed["Payload"].read())["errorType"] == "KeyError"
    with pytest.raises(ClientError) as missing:
        client.invoke(FunctionName="NoSuchFunction", InvocationType="Event", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_hello_gives_up_after_its_retries_when_the_connection_never_opens(make_user):
    """A registered connection that API Gateway never opened (or already closed): 410 each time."""
    user, _ = make_user()
    db.run(lambda conn: connections.register(conn, connection_id="never-opened=", user_id=user["id"],
                                             connected_at=datetime.now(UTC), max_lifetime_s=7200))
    assert hello_handler({"connection_id": "never-opened="}, None) == {"sent": False, "reason": "gone"}


def test_connect_still_succeeds_when_the_hello_function_cannot_be_invoked(make_user, monkeypatch):
    from functions.ws_connect.app import handler as connect_handler
    from shared.core.settings import reset_settings
    from shared.identity.tickets import issue_ticket
    from tests.support import load_event

    user, _ = make_user()
    monkeypatch.setenv("WS_HELLO_FUNCTION", "NoSuchFunction")
    reset_settings()
    event = load_event("event-ws-connect")
    event["queryStringParameters"]["ticket"] = issue_ticket(user["id"])[0]
    assert connect_handler(event, None)["statusCode"] == 200
    assert connection_ids(user["id"]) == {event["requestContext"]["connectionId"]}


def test_hello_retries_a_410_until_api_gateway_has_opened_the_connection(make_user, monkeypatch):
    """As in AWS, the hello function may run before the handshake is done: its first posts get 410."""
    import threading
    import time

    import functions.ws_hello.app as hello_app
    import local.ws_gateway

    user, _ = make_user()
    connection_id = "opened-later="
    db.run(lambda conn: connections.register(conn, connection_id=connection_id, user_id=user["id"],
                                             connected_at=datetime.now(UTC), max_lifetime_s=7200))
    outcomes: list[str] = []
    real_send = hello_app.send_to_connection

    def recording(cid: str, message: dict) -> str:
        outcome = real_send(cid, message)
        if cid == connection_id:
            outcomes.append(outcome)
        return outcome

    monkeypatch.setattr(hello_app, "send_to_connection", recording)
    monkeypatch.setattr(local.ws_gateway, "new_connection_id", lambda: connection_id)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(hello_handler({"connection_id": connection_id}, None)))
    worker.start()
    time.sleep(0.06)  # the hello function is already retrying when the socket opens
    with connect(ticket_url(user["id"]), open_timeout=15) as sock:
        worker.join(10)
        assert result == {"sent": True, "reason": "sent"}
        assert outcomes[0] == "gone" and outcomes[-1] == "sent"
        assert recv_json(sock, timeout=5)["type"] == "hello"
