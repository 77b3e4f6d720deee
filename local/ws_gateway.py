"""A local API Gateway WebSocket API: sockets → the real handlers, plus the ``@connections`` endpoint.

What it does like AWS:
- on upgrade it invokes the ``$connect`` handler with a CONNECT event and refuses the upgrade with
  the handler's status when that is not 2xx;
- each frame is routed by the route selection expression ``$request.body.action`` to that route's
  handler, else to ``$default`` (no ``$default`` route: a ``Forbidden`` frame, as AWS sends);
  a crashing handler gets the client AWS's ``Internal server error`` frame;
- ``$disconnect`` is invoked after every close, with the close code;
- idle connections (no frame from the client for ``idle_timeout_s``, 10 min) and connections older
  than ``max_lifetime_s`` (2 h) are closed with 1001 "Going away";
- the management API on the same server: ``POST /@connections/{id}`` sends, ``GET`` describes,
  ``DELETE`` closes; unknown ids get 410 with ``x-amzn-errortype: GoneException`` — which is what
  makes botocore raise ``GoneException`` — so boto3's ``apigatewaymanagementapi`` client pointed
  at this server works unchanged. (Requests are not signature-checked, as with moto.)

The same server answers Lambda's Invoke API (``local/lambda_api.py``) for the functions the
WebSocket handlers invoke: ``$connect`` invokes the hello function asynchronously.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from local import console
from local.http_gateway import read_body
from local.invoker import Invoker
from local.lambda_api import LambdaApi
from local.template import websocket_routes
from local.ws_event import WsConnection, connect_event, disconnect_event, message_event, new_connection_id

MAX_FRAME = 128 * 1024
IDLE_TIMEOUT_S = float(os.environ.get("ATRIBUO_WS_IDLE_TIMEOUT_S", "600"))
MAX_LIFETIME_S = float(os.environ.get("ATRIBUO_WS_MAX_LIFETIME_S", "7200"))
MANAGEMENT_PATH = re.compile(r"(?:/[^/@]+)?/@connections/(?P<id>[^/]+)")
GOING_AWAY = 1001


@dataclass
class Socket:
    """A live connection: API Gateway's view of it plus the ASGI ``send`` that reaches the client."""

    info: WsConnection
    send: Any
    opened: float = field(default_factory=time.monotonic)
    last_frame: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    notify_disconnect: bool = True
    close_code: int | None = None


def _status(result: Any) -> int:
    return int(result.get("statusCode", 200)) if isinstance(result, dict) else 200


def _iso(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat().replace("+00:00", "Z")


class _DenialIsNotAnError(logging.Filter):
    """uvicorn's websockets-sansio protocol logs "ASGI callable returned without completing handshake."
    at ERROR after every upgrade refused with a denial response (the client does get the 401/403):
    it never marks the handshake done (upstream PR Kludex/uvicorn#3138; wsproto does). A refused
    ticket is normal here, so that line is dropped once per refusal this gateway sent; any other
    unfinished handshake still logs it."""

    MESSAGE = "ASGI callable returned without completing handshake."

    def __init__(self) -> None:
        super().__init__()
        self.refusals = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if self.refusals and record.getMessage() == self.MESSAGE:
            self.refusals -= 1
            return False
        return True


_DENIAL_FILTER = _DenialIsNotAnError()


class WebSocketGateway:
    def __init__(self, invoker: Invoker, routes: dict[str, str] | None = None, *,
                 idle_timeout_s: float = IDLE_TIMEOUT_S, max_lifetime_s: float = MAX_LIFETIME_S,
                 stage: str = "local", management_latency_s: float = 0.0) -> None:
        self.invoker = invoker
        self.routes = routes if routes is not None else websocket_routes()
        self.idle_timeout_s = idle_timeout_s
        self.max_lifetime_s = max_lifetime_s
        self.stage = stage
        # Optional delay on every @connections answer, to model the network round trip to AWS (bench).
        self.management_latency_s = management_latency_s
        self.sockets: dict[str, Socket] = {}
        self.lambda_api = LambdaApi(invoker)
        logging.getLogger("uvicorn.error").addFilter(_DENIAL_FILTER)  # idempotent: the same filter object
        self.loop: asyncio.AbstractEventLoop | None = None
        self.url = ""  # set by whoever serves it (make dev, the test fixture)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.loop = asyncio.get_running_loop()
        if scope["type"] == "websocket":
            await self._serve_socket(scope, receive, send)
        elif scope["type"] == "http":
            await self._management(scope, receive, send)

    # --- sockets ------------------------------------------------------------------------------
    async def _serve_socket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        lower = {k.lower(): v for k, v in headers}
        info = WsConnection(new_connection_id(), (scope.get("client") or ("127.0.0.1",))[0],
                            lower.get("user-agent", ""), lower.get("host", "127.0.0.1"), stage=self.stage)
        await receive()  # websocket.connect
        event = connect_event(info, headers, scope.get("query_string", b"").decode("latin-1"))
        started = time.perf_counter()
        result = await self._invoke("$connect", event)
        status = _status(result) if result is not None else 200
        console.ws("connect", info.connection_id, str(status), (time.perf_counter() - started) * 1000)
        if result is not None and not 200 <= _status(result) < 300:
            await self._refuse(send, _status(result), str(result.get("body") or ""))
            return
        await send({"type": "websocket.accept"})
        sock = Socket(info, send)
        self.sockets[info.connection_id] = sock
        watchdog = asyncio.create_task(self._watch(sock))
        try:
            await self._frames(sock, receive)
        finally:
            watchdog.cancel()
            self.sockets.pop(info.connection_id, None)
            if sock.notify_disconnect and "$disconnect" in self.routes:
                code = sock.close_code or 1005
                await self._invoke("$disconnect", disconnect_event(info, code))
                console.ws("disconnect", info.connection_id, str(code))

    async def _refuse(self, send: Any, status: int, body: str) -> None:
        _DENIAL_FILTER.refusals += 1
        await send({"type": "websocket.http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "websocket.http.response.body", "body": body.encode()})

    async def _frames(self, sock: Socket, receive: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                sock.close_code = sock.close_code or message.get("code")
                return
            data = message.get("text") if message.get("text") is not None else message.get("bytes") or b""
            sock.last_frame = time.monotonic()
            sock.info.last_active_ms = int(time.time() * 1000)
            await self._route(sock, data)

    def route_for(self, data: str | bytes) -> str | None:
        """The route key ``$request.body.action`` selects, ``$default`` otherwise (None: no route)."""
        try:
            action = json.loads(data).get("action")
        except (ValueError, AttributeError):
            action = None
        if isinstance(action, str) and action in self.routes and not action.startswith("$"):
            return action
        return "$default" if "$default" in self.routes else None

    async def _route(self, sock: Socket, data: str | bytes) -> None:
        route = self.route_for(data)
        info = sock.info
        if route is None:
            await self._send(sock, json.dumps({"message": "Forbidden", "connectionId": info.connection_id,
                                               "requestId": info.context("", "")["requestId"]}))
            return
        started = time.perf_counter()
        try:
            await self.invoker.invoke(self.routes[route], message_event(info, route, data))
            console.ws("message", info.connection_id, route, (time.perf_counter() - started) * 1000)
        except Exception:  # what AWS tells the client when the integration fails
            console.ws("message", info.connection_id, f"{route} failed", (time.perf_counter() - started) * 1000)
            await self._send(sock, json.dumps({"message": "Internal server error",
                                               "connectionId": info.connection_id,
                                               "requestId": info.context("", "")["requestId"]}))

    async def _invoke(self, route: str, event: dict[str, Any]) -> Any:
        module = self.routes.get(route)
        if module is None:
            return None
        try:
            return await self.invoker.invoke(module, event)
        except Exception:
            return {"statusCode": 500, "body": "Internal server error"}

    async def _send(self, sock: Socket, data: str | bytes) -> bool:
        message = {"type": "websocket.send", "text": data} if isinstance(data, str) else \
            {"type": "websocket.send", "bytes": data}
        try:
            async with sock.lock:
                await sock.send(message)
            return True
        except Exception:  # the client went away under us
            return False

    async def close(self, connection_id: str, code: int = 1000, *, notify: bool = True) -> bool:
        """Close a connection from the server side; ``notify=False`` skips ``$disconnect`` (as AWS may)."""
        sock = self.sockets.get(connection_id)
        if sock is None:
            return False
        sock.notify_disconnect = notify
        sock.close_code = code
        async with sock.lock:
            with contextlib.suppress(Exception):  # already closing
                await sock.send({"type": "websocket.close", "code": code})
        return True

    def drop(self, connection_id: str) -> bool:
        """From any thread: close a socket *without* ``$disconnect``, leaving its row behind (tests)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(self.close(connection_id, GOING_AWAY, notify=False),
                                                self.loop).result(5)

    async def _watch(self, sock: Socket) -> None:
        """Close like AWS: after ``idle_timeout_s`` without a client frame, or at ``max_lifetime_s``."""
        while True:
            deadline = min(sock.last_frame + self.idle_timeout_s, sock.opened + self.max_lifetime_s)
            wait = deadline - time.monotonic()
            if wait <= 0:
                await self.close(sock.info.connection_id, GOING_AWAY)
                return
            await asyncio.sleep(wait)

    # --- the @connections management API ------------------------------------------------------
    async def _management(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await read_body(receive)
        # Match the raw path: an id is one segment even if it held an encoded "/".
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        found = MANAGEMENT_PATH.fullmatch(raw_path)
        if self.lambda_api.handles(raw_path):
            lower = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            code, extra, raw_answer = await self.lambda_api.invoke(raw_path, lower, body)
            await send({"type": "http.response.start", "status": code,
                        "headers": [(b"content-type", b"application/json"),
                                    *((k.encode(), v.encode()) for k, v in extra.items())]})
            await send({"type": "http.response.body", "body": raw_answer})
            return
        if found is None:
            status, headers, payload = 404, {}, {"message": "Not Found"}
        else:
            status, headers, payload = await self._manage(scope["method"], unquote(found["id"]), body)
        if self.management_latency_s:
            await asyncio.sleep(self.management_latency_s)
        raw = b"" if payload is None else json.dumps(payload).encode()
        head = [(b"content-type", b"application/json"), *((k.encode(), v.encode()) for k, v in headers.items())]
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": raw})

    async def _manage(self, method: str, connection_id: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        sock = self.sockets.get(connection_id)
        if sock is None:
            return 410, {"x-amzn-errortype": "GoneException"}, {"message": None}
        if method == "POST":
            if len(body) > MAX_FRAME:
                return 413, {"x-amzn-errortype": "PayloadTooLargeException"}, {"message": "Message too long"}
            try:
                data: str | bytes = body.decode()
            except UnicodeDecodeError:
                data = body
            sent = await self._send(sock, data)
            return (200, {}, None) if sent else (410, {"x-amzn-errortype": "GoneException"}, {"message": None})
        if method == "GET":
            info = sock.info
            return 200, {}, {"connectedAt": _iso(info.connected_at_ms), "lastActiveAt": _iso(info.last_active_ms),
                             "identity": {"sourceIp": info.source_ip, "userAgent": info.user_agent}}
        if method == "DELETE":
            await self.close(connection_id)
            return 204, {}, None
        return 405, {}, {"message": "Method Not Allowed"}
