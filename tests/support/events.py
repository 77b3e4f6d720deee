"""Helpers the tests share: load sample events from ``events/`` and call real handlers with them."""

from __future__ import annotations

import base64
import copy
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from local.lambda_context import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
@cache
def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of ``events/<name>.json``."""
    return copy.deepcopy(_read(EVENTS / f"{name}.json"))


def http_event(
    method: str,
    path: str,
    *,
    route: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_params: dict[str, str] | None = None,
    style: str = "aws",
    source_ip: str = "203.0.113.7",
) -> dict[str, Any]:
    """An HTTP API v2 event for ``method path``.

    ``style="aws"`` starts from a recorded AWS event (lower-case headers, plain body);
    ``style="sam"`` from ``sam local generate-event`` output (mixed-case headers, base64 body,
    cookies), so each handler is proven against both.
    """
    event = load_event("event-get-health" if style == "aws" else "event-sam-http-api-proxy")
    route_key = f"{method} {route or path}"
    event.update(routeKey=route_key, rawPath=path, rawQueryString=urlencode(query or {}))
    event["requestContext"].update(routeKey=route_key)
    event["requestContext"]["http"].update(method=method, path=path, sourceIp=source_ip)
    event["queryStringParameters"] = dict(query) if query else None
    event["pathParameters"] = path_params
    if style == "sam":
        event["headers"] = {k: v for k, v in event["headers"].items() if k in ("User-Agent",)}
    for key, value in (headers or {}).items():
        event["headers"][key.title() if style == "sam" else key.lower()] = value
    event.pop("body", None)
    event["isBase64Encoded"] = False
    if body is not None:
        raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
        raw = raw.encode() if isinstance(raw, str) else raw
        ctype_key = "Content-Type" if style == "sam" else "content-type"
        event["headers"].setdefault(ctype_key, "application/json")
        event["headers"].setdefault("Content-Length" if style == "sam" else "content-length", str(len(raw)))
        if style == "sam":
            event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
        else:
            event["body"] = raw.decode()
    return event


class Response:
    """A handler's answer, decoded: ``status``, ``headers`` (lower-case), ``body`` and ``json``."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.status: int = result["statusCode"]
        self.headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        raw = result.get("body") or ""
        self.body: bytes = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        self.cookies: list[str] = result.get("cookies") or []

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.body[:300]!r}>"


def invoke(handler: Any, event: dict[str, Any], function_name: str = "test") -> Response:
    """Call a real Lambda handler as Lambda would."""
    return Response(handler(event, LambdaContext(function_name=function_name)))


def invoke_plain(handler: Any, event: dict[str, Any], function_name: str = "test") -> Any:
    """Call a non-HTTP handler (scheduled, SQS) as Lambda would; its raw return value."""
    return handler(event, LambdaContext(function_name=function_name))
