"""The make dev console (one line per request, event and run) and the device-reachability setting."""

from __future__ import annotations

import logging
import os
import time

import httpx
import pytest

from local.dev import HTTP_PORT, WS_PORT, reachable
from local.http_gateway import HttpGateway
from local.invoker import Invoker
from local.servers import ServerThread
from tests.support.realtime import open_socket_with_hello


@pytest.fixture
def console(caplog):
    caplog.set_level(logging.INFO, logger="atribuo.console")
    logging.getLogger("atribuo.console").propagate = True
    return caplog


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "atribuo.console"]


def test_one_line_per_http_request_with_status_time_request_id_and_function(stack, console):
    invoker = Invoker()
    server = ServerThread(HttpGateway(invoker)).start()
    try:
        answer = httpx.get(f"{server.url}/api/v1/health")
        httpx.get(f"{server.url}/api/v1/nope")
        httpx.options(f"{server.url}/api/v1/skills", headers={"origin": "http://localhost:5173",
                                                             "access-control-request-method": "POST"})
    finally:
        server.stop()
        invoker.shutdown()
    lines = _lines(console)
    assert len(lines) == 3
    assert lines[0].startswith("HTTP GET    /api/v1/health 200 ") and lines[0].endswith(" health")
    assert f"id={answer.headers['x-request-id']}" in lines[0]
    assert " 404 " in lines[1] and lines[1].endswith(" not_found")
    assert lines[2].startswith("HTTP OPTIONS /api/v1/skills 204 ") and lines[2].endswith(" gateway")


def test_websocket_connects_messages_and_disconnects_get_a_line_each(ws_gateway, make_user, console):
    user, _ = make_user()
    sock, hello = open_socket_with_hello(user["id"])
    with sock:
        sock.send('{"action": "ping"}')
        sock.recv(timeout=5)
    def logged(prefix: str, detail: str) -> bool:  # lines are written once the invocation returned
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(line.startswith(prefix) and hello["connection_id"] in line and detail in line
                   for line in _lines(console)):
                return True
            time.sleep(0.05)
        return False

    assert logged("WS   connect ", " 200 ")
    assert logged("WS   message ", " ping ")
    assert logged("WS   disconnect ", " 1000")


def test_devices_beyond_this_machine_get_urls_on_the_public_host():
    assert reachable("127.0.0.1") == ("127.0.0.1", f"http://127.0.0.1:{HTTP_PORT}", f"ws://127.0.0.1:{WS_PORT}",
                                      f"http://127.0.0.1:{HTTP_PORT}/avatars-cdn")
    bind, api, ws, cdn = reachable("10.0.2.2")
    assert bind == "0.0.0.0" and api == f"http://10.0.2.2:{HTTP_PORT}" and ws == f"ws://10.0.2.2:{WS_PORT}"  # noqa: S104
    assert cdn.startswith(api)
    assert reachable("192.168.1.20", bind="192.168.1.20")[0] == "192.168.1.20"


def test_functions_log_under_their_own_service_name(stack):
    import io

    from shared.core.observability import logger
    from tests.support.events import load_event

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    invoker = Invoker()
    try:
        invoker.submit("functions.ws_disconnect.app", load_event("event-ws-disconnect")).result(10)
    finally:
        invoker.shutdown()
        logger.removeHandler(handler)
    assert '"service":"ws_disconnect"' in out.getvalue()


def test_a_refused_ticket_is_one_console_line_and_no_error(ws_gateway, caplog):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    caplog.set_level(logging.INFO)
    with pytest.raises(InvalidStatus):
        connect(f"{os.environ['WEBSOCKET_URL']}?ticket={'A' * 43}", open_timeout=15)
    time.sleep(0.5)  # uvicorn logs after the app returned
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any(r.getMessage().startswith("WS   connect ") and " 403" in r.getMessage() for r in caplog.records)
