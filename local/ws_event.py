"""Build API Gateway WebSocket events the way AWS does (``$connect``, messages, ``$disconnect``).

Shapes follow AWS's documented WebSocket events (as in events/event-ws-*.json): ``$connect`` carries mixed-case
``headers`` plus ``multiValueHeaders`` and the query string; messages carry only a JSON *string*
body; ``$disconnect`` carries ``disconnectStatusCode`` and ``disconnectReason``.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

CANONICAL = {"sec-websocket-key": "Sec-WebSocket-Key", "sec-websocket-version": "Sec-WebSocket-Version",
             "sec-websocket-extensions": "Sec-WebSocket-Extensions",
             "sec-websocket-protocol": "Sec-WebSocket-Protocol"}
CLOSE_REASONS = {1000: "Normal closure", 1001: "Going away", 1005: "Client-side close frame status not set",
                 1006: "Connection closed abnormally"}


def new_connection_id() -> str:
    """An id shaped like AWS's (16 characters of URL-safe base64, ending in ``=``)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode()


def _request_id() -> str:
    return base64.b64encode(secrets.token_bytes(11)).decode()


def _header_name(name: str) -> str:
    """API Gateway passes header names as the client spelled them; browsers send these spellings."""
    return CANONICAL.get(name, "-".join(part.capitalize() for part in name.split("-")))


@dataclass
class WsConnection:
    """What the gateway knows about one socket, as API Gateway would."""

    connection_id: str
    source_ip: str
    user_agent: str
    domain: str
    stage: str = "local"
    api_id: str = "local"
    connected_at_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    last_active_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    def context(self, route_key: str, event_type: str, **extra: Any) -> dict[str, Any]:
        now = time.time()
        request_id = _request_id()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": self.connected_at_ms,
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": self.source_ip},
            "requestId": request_id,
            "domainName": self.domain,
            "connectionId": self.connection_id,
            "apiId": self.api_id,
            **extra,
        }


def connect_event(conn: WsConnection, headers: Iterable[tuple[str, str]], raw_query: str) -> dict[str, Any]:
    """The ``$connect`` event: headers (single and multi-value) and query string parameters."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        key = _header_name(name.lower())
        single[key] = value
        multi.setdefault(key, []).append(value)
    for key, value in (("X-Forwarded-For", conn.source_ip), ("X-Forwarded-Proto", "http")):
        single.setdefault(key, value)
        multi.setdefault(key, [value])
    event: dict[str, Any] = {"headers": single, "multiValueHeaders": multi,
                             "requestContext": conn.context("$connect", "CONNECT"), "isBase64Encoded": False}
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if pairs:
        event["queryStringParameters"] = dict(pairs)
        event["multiValueQueryStringParameters"] = {}
        for key, value in pairs:
            event["multiValueQueryStringParameters"].setdefault(key, []).append(value)
    return event


def message_event(conn: WsConnection, route_key: str, body: str | bytes) -> dict[str, Any]:
    """A message routed to ``route_key``; binary frames arrive base64-encoded."""
    ctx = conn.context(route_key, "MESSAGE", messageId=_request_id())
    if isinstance(body, bytes):
        return {"requestContext": ctx, "body": base64.b64encode(body).decode(), "isBase64Encoded": True}
    return {"requestContext": ctx, "body": body, "isBase64Encoded": False}


def disconnect_event(conn: WsConnection, status_code: int, reason: str | None = None) -> dict[str, Any]:
    """``$disconnect``, with the close code and AWS's reason text."""
    headers = {"Host": conn.domain, "X-Forwarded-For": ""}
    ctx = conn.context("$disconnect", "DISCONNECT", disconnectStatusCode=status_code,
                       disconnectReason=reason or CLOSE_REASONS.get(status_code, ""))
    return {"headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "requestContext": ctx, "isBase64Encoded": False}
