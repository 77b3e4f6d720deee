"""The Upstash bridge and S3 frozen with SIGSTOP: the routes that need them answer the 503 envelope.

Each dependency runs in its own process for this (the suite's bridge and moto share the test
process): SIGSTOP leaves its listening socket to the kernel, which still completes TCP handshakes,
so only the clients' own deadlines end the wait. The test's one clock is a guard several times the
deadline, so a hang fails the test; no latency is asserted. (Postgres: tests/shared/clients/test_db_deadlines.py.)
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from local import servers
from shared.clients.registry import reset_all
from tests.support.events import http_event, invoke
from tests.support.freeze import frozen, within
from tests.support.users import TEST_PASSWORD

GUARD_S = 30  # Redis: 1 s per call; S3: 2 attempts x (1 + 2) s; the Lambda-like context has 10 s


def _assert_envelope_503(response) -> None:
    assert response.status == 503, response
    assert response.json["error"]["code"] == "service_unavailable"
    assert set(response.json) == {"error"}


@pytest.fixture
def bridge_process(stack, monkeypatch) -> Iterator[servers.BridgeProcess]:
    """An Upstash bridge in its own process, over the suite's Redis; the clients point at it."""
    token = secrets.token_urlsafe(24)
    bridge = servers.BridgeProcess(stack.redis.socket_file, token)
    monkeypatch.setenv("UPSTASH_REDIS_REST_URL", bridge.url)
    monkeypatch.setenv("UPSTASH_REDIS_REST_TOKEN", token)
    monkeypatch.setenv("REDIS_TIMEOUT_S", "1")
    reset_all()
    yield bridge
    bridge.stop()
    reset_all()


@pytest.fixture
def moto_process(stack, monkeypatch) -> Iterator[subprocess.Popen]:
    """moto's server in its own process with the avatar bucket; boto3 points at it."""
    import boto3

    port = servers.free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", servers.LOOPBACK, "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        servers._wait_for_port(port, process)
        url = f"http://{servers.LOOPBACK}:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        reset_all()
        from shared.core.settings import get_settings

        boto3.client("s3", endpoint_url=url).create_bucket(Bucket=get_settings().avatar_bucket)
        yield process
    finally:
        process.terminate()
        process.wait(10)
        reset_all()


def test_a_frozen_upstash_is_a_503_on_sign_in(make_user, bridge_process):
    from functions.auth.app import handler

    make_user("alice")
    login = http_event("POST", "/api/v1/auth/login", body={"username": "alice", "password": TEST_PASSWORD})
    assert invoke(handler, login).status == 200  # the client is warm and its connection open
    with frozen([bridge_process.process.pid]):
        response = within(GUARD_S, lambda: invoke(handler, http_event(
            "POST", "/api/v1/auth/login", body={"username": "alice", "password": TEST_PASSWORD})))
    _assert_envelope_503(response)
    assert invoke(handler, http_event("POST", "/api/v1/auth/login", body={"username": "alice",
                                                                         "password": TEST_PASSWORD})).status == 200


def test_a_frozen_s3_is_a_503_on_avatar_confirm(make_user, moto_process):
    from functions.uploads.app import handler

    user, headers = make_user("alice")
    key = f"avatars/{user['id']}/{uuid.uuid4().hex}.png"
    confirm = http_event("POST", "/api/v1/me/avatar/confirm", headers=headers, body={"key": key})
    assert invoke(handler, confirm).status == 404  # S3 answers (no such object) while it runs
    with frozen([moto_process.pid]):
        response = within(GUARD_S, lambda: invoke(handler, http_event(
            "POST", "/api/v1/me/avatar/confirm", headers=headers, body={"key": key})))
    _assert_envelope_503(response)


def test_an_s3_attempt_that_cannot_finish_in_time_is_not_started(make_user, moto_process):
    """The invocation's deadline (shared.core.deadline): with 1.5 s left after the margin, an S3 attempt
    (up to 3 s) is refused before it is sent, so the function answers instead of timing out."""
    from functions.uploads.app import handler
    from local.lambda_context import LambdaContext
    from tests.support.events import Response

    user, headers = make_user("alice")
    key = f"avatars/{user['id']}/{uuid.uuid4().hex}.png"
    confirm = http_event("POST", "/api/v1/me/avatar/confirm", headers=headers, body={"key": key})
    assert Response(handler(confirm, LambdaContext(timeout_s=10))).status == 404
    _assert_envelope_503(Response(handler(confirm, LambdaContext(timeout_s=2.5))))


@pytest.fixture
def frozen_management_api(stack, monkeypatch) -> Iterator[subprocess.Popen]:
    """An HTTP server in its own process standing in for the WebSocket management API; the fan-out
    posts to it. Frozen by the test, it accepts connections (the kernel does) and never answers."""
    port = servers.free_port()
    process = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", servers.LOOPBACK, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        servers._wait_for_port(port, process)
        monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", f"http://{servers.LOOPBACK}:{port}")
        reset_all()
        yield process
    finally:
        process.terminate()
        process.wait(10)
        reset_all()


def test_a_frozen_management_api_leaves_the_write_inside_its_deadline(make_user, frozen_management_api, caplog):
    """The fan-out posts on pool threads; they run in the request's context, so the invocation's deadline
    bounds them too: the post whose attempt (up to 1 + 2 s) cannot finish before it is never sent (nor
    retried), and the committed write answers 201 in time. Without the deadline in those threads, the
    post would wait out its read timeouts (2 attempts x 2 s) past the function's deadline."""
    from datetime import UTC, datetime

    from functions.skills.app import handler
    from local.lambda_context import LambdaContext
    from shared.clients import db
    from shared.repositories import connections
    from tests.support.events import Response

    user, headers = make_user("alice")
    db.run(lambda conn: connections.register(conn, connection_id="device-1", user_id=user["id"],
                                             connected_at=datetime.now(UTC), max_lifetime_s=7200))
    create = http_event("POST", "/api/v1/skills", headers=headers,
                        body={"name": "Python", "category": "programming", "level": 3})
    with frozen([frozen_management_api.pid]):
        response = within(GUARD_S, lambda: Response(handler(create, LambdaContext(timeout_s=2.5))))
    assert response.status == 201, response
    refused = [r for r in caplog.records if r.getMessage() == "post_to_connection failed"]
    # two pushes: the skill and the achievement it earned (first_skill); each refused in time
    assert [getattr(r, "error", None) for r in refused] == ["DeadlineExceededError"] * 2
