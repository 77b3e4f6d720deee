"""A local API Gateway (HTTP API): routes from ``template.yaml`` → the real ``handler(event, context)``.

What it does like AWS: explicit routes only (unknown routes go to the ``$default`` route's function
if the template has one), HTTP API v2 events with lower-cased comma-joined headers, cookies as a
list and binary bodies base64-encoded, the 10 MB payload limit, and CORS from the template's
``CorsConfiguration`` (preflights answered by the gateway, CORS headers on every response:
``local/cors.py``). It also serves the merged OpenAPI at ``/openapi.json`` and Swagger UI at ``/docs``
(from the ``swagger-ui-bundle-v2`` pip package: no CDN, so it works offline) and the realtime
protocol at ``/docs/realtime`` (``local/docs.py``).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from local import console, docs
from local.cors import CorsConfig, http_api_cors, is_preflight
from local.http_event import build_http_event, read_http_response
from local.invoker import Invoker
from local.template import HttpRoute, http_routes

MAX_PAYLOAD = 10 * 1024 * 1024
CDN_PREFIX = "/avatars-cdn"  # the local stand-in for the CDN in front of the private avatar bucket


async def read_body(receive: Any) -> bytes:
    """The whole request body of an ASGI HTTP request (API Gateway hands Lambda complete bodies)."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def _error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
    return status, [("content-type", "application/json")], body


def _own_path(path: str) -> bool:
    """Paths the local gateway answers itself (docs, the CDN stand-in), not a function."""
    return path in ("/docs", "/openapi.json", "/docs/realtime") or path.startswith(
        (docs.SWAGGER_STATIC, CDN_PREFIX + "/"))


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == name), None)


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _cdn_object(key: str, method: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """What CloudFront (with origin access control) answers for ``{AVATAR_PUBLIC_BASE_URL}/{key}``:
    the object from the private bucket, or a 404 for a missing one."""
    from botocore.exceptions import ClientError

    from shared.clients.s3 import get_s3
    from shared.core.settings import get_settings

    try:
        found = get_s3().get_object(Bucket=get_settings().avatar_bucket, Key=key)
    except ClientError:
        return 404, [("content-type", "text/plain")], b"Not Found"
    body = found["Body"].read()
    headers = [("content-type", found.get("ContentType") or "application/octet-stream"),
               ("etag", found.get("ETag", "")), ("cache-control", "public, max-age=31536000, immutable")]
    return 200, headers, b"" if method == "HEAD" else body


class HttpGateway:
    def __init__(self, invoker: Invoker, routes: list[HttpRoute] | None = None, *,
                 cors: CorsConfig | bool | None = True) -> None:
        self.invoker = invoker
        # True: the template's CorsConfiguration (read now, so ALLOWED_ORIGINS is the one at start).
        self.cors = http_api_cors() if cors is True else (cors or None)
        self.routes = routes if routes is not None else http_routes()
        self.default = next((r for r in self.routes if r.path == "$default"), None)
        self._openapi: bytes | None = None

    def resolve(self, method: str, path: str) -> tuple[HttpRoute | None, dict[str, str]]:
        for route in self.routes:
            params = route.match(path)
            if params is not None and route.method in (method, "ANY"):
                return route, params
        return self.default, {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        body = await read_body(receive)
        origin = _header(scope, b"origin")
        module: str | None = None  # who answered: a function, or the gateway itself
        if self.cors is not None and is_preflight(scope["method"], _headers(scope)):
            status, headers, payload = 204, self.cors.preflight(origin), b""
        else:
            route, _ = self.resolve(scope["method"], scope["path"])
            module = route.module if route and not _own_path(scope["path"]) else None
            status, headers, payload = await self._handle(scope, body)
            if self.cors is not None:
                headers = self.cors.actual(origin, headers)
        request_id = next((v for k, v in headers if k.lower() == "x-request-id"), "")
        console.http(scope["method"], scope["path"], status, (time.perf_counter() - started) * 1000, request_id,
                     module)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.lower().encode(), str(v).encode()) for k, v in headers]})
        await send({"type": "http.response.body", "body": payload})

    async def _handle(self, scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        method, path = scope["method"], scope["path"]
        if path in ("/docs", "/openapi.json"):
            return await self._docs(path)
        if path == "/docs/realtime":
            return docs.realtime_page()
        if path.startswith(docs.SWAGGER_STATIC):
            asset = docs.swagger_asset(path.removeprefix(docs.SWAGGER_STATIC))
            return asset or _error(404, "not_found", "no such route")
        if path.startswith(CDN_PREFIX + "/") and method in ("GET", "HEAD"):
            return await asyncio.to_thread(_cdn_object, path.removeprefix(CDN_PREFIX + "/"), method)
        if len(body) > MAX_PAYLOAD:
            return _error(413, "payload_too_large", "request body exceeds the 10 MB API Gateway limit")
        route, params = self.resolve(method, path)
        if route is None:
            return _error(404, "not_found", "no such route")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = dict(headers).get("host", "127.0.0.1")
        event = build_http_event(
            method=method, path=path, route_key=route.route_key,
            raw_query=scope.get("query_string", b"").decode("latin-1"), headers=headers, body=body,
            path_parameters=params or None, source_ip=(scope.get("client") or ("127.0.0.1",))[0], domain=host,
        )
        try:
            result = await self.invoker.invoke(route.module, event, route.function)
        except Exception:  # an unhandled crash in Lambda is a 500 from API Gateway, without details
            return _error(500, "internal_error", "Internal Server Error")
        return read_http_response(result)

    async def _docs(self, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        if path == "/docs":
            return docs.swagger_page()
        if self._openapi is None:
            from local.openapi import merged_openapi

            doc = await asyncio.wrap_future(self.invoker.call(merged_openapi))
            self._openapi = json.dumps(doc).encode()
        return 200, [("content-type", "application/json")], self._openapi
