"""``api_router()`` and ``create_app(router)``: the one way a function builds its FastAPI app.

It gives every function the same behaviour at the edges: the ``/api/v1`` prefix, one JSON error
envelope for every failure (typed errors, validation, unknown routes, and anything unexpected),
a request id, security headers, CORS, a body-size and content-type gate, and structured logs.

Routers carry the full ``/api/v1/...`` prefix from the start and the app takes their routes as they
are, instead of ``include_router``: FastAPI builds an included router's routes a second time, lazily,
on the first request (~15 ms of every cold start for six or seven routes); routes built once at import are
also what a SnapStart snapshot keeps.

The edge work is one pure-ASGI middleware rather than several ``BaseHTTPMiddleware`` layers,
because each of those costs a task and a queue per request.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from shared import request_context
from shared.errors import AppError, ServiceUnavailableError, ValidationFailedError
from shared.observability import logger
from shared.schemas import ErrorEnvelope
from shared.settings import get_settings

API_PREFIX = "/api/v1"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"referrer-policy", b"no-referrer"),
]
BODY_METHODS = {"POST", "PUT", "PATCH"}
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # \u0000 preceded by an even number of backslashes
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text}
    for status, text in [
        (400, "Malformed request"),
        (404, "Not found"),
        (413, "Body too large"),
        (415, "Body is not JSON"),
        (422, "Validation failed (details name the fields)"),
        (429, "Rate limited"),
        (503, "A dependency is unavailable"),
    ]
}


def envelope(status: int, code: str, message: str, details: Any = None, headers: dict | None = None) -> JSONResponse:
    """The one error body: ``{"error": {"code", "message", "details"}}``."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def api_router(prefix: str = "", *, tags: list[str] | None = None) -> APIRouter:
    """A function's router: its paths live under ``/api/v1`` and document the error envelope."""
    return APIRouter(prefix=f"{API_PREFIX}{prefix}", tags=list(tags or []), responses=ERROR_RESPONSES)


def create_app(*routers: APIRouter, title: str = "Atribuo API") -> FastAPI:
    """Build a function's app from its ``api_router()`` router(s)."""
    routes = [route for router in routers for route in router.routes]
    outside = [path for route in routes if not (path := getattr(route, "path", "")).startswith(API_PREFIX)]
    if outside:
        raise ValueError(f"routes outside {API_PREFIX} (build routers with api_router()): {outside}")
    settings = get_settings()
    # FastAPI's native OpenTelemetry is off: traces, logs and metrics go through Powertools/X-Ray.
    app = FastAPI(title=title, version=settings.app_version, docs_url=None, redoc_url=None,
                  telemetry={"tracing": False, "metrics": False, "logs": False}, routes=routes)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(EdgeMiddleware, max_body=settings.max_body_bytes, origins=settings.origins)
    from shared.coldstart import ready  # lazily: importing it pauses the GC, which ready() resumes

    ready()
    return app


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return envelope(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """422 naming each bad field; a body that is not JSON at all is a 400."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return envelope(400, "invalid_json", "the request body is not valid JSON")
    details = [
        {"field": ".".join(str(part) for part in err.get("loc", ())), "message": err.get("msg", ""),
         "type": err.get("type", "")}
        for err in errors
    ]
    fields = ", ".join(d["field"] for d in details)
    return envelope(422, "validation_error", f"invalid input: {fields}", details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, AppError):  # FastAPI wraps errors raised while reading the body
        return await _app_error(request, exc.__cause__)
    codes = {404: "not_found", 405: "method_not_allowed"}
    message = {404: "no such route", 405: "method not allowed on this route"}.get(exc.status_code, str(exc.detail))
    return envelope(exc.status_code, codes.get(exc.status_code, "http_error"), message, headers=exc.headers)


def infrastructure_error(exc: BaseException) -> AppError | None:
    """Map a dependency failure (database, cache) to a 503; anything else stays unexpected."""
    psycopg = sys.modules.get("psycopg")
    httpx = sys.modules.get("httpx")
    upstash = sys.modules.get("upstash_redis.errors")
    if psycopg is not None and isinstance(exc, psycopg.DataError):  # a value Postgres cannot store
        return ValidationFailedError("a value in the request cannot be stored", code="invalid_value")
    if psycopg is not None and isinstance(exc, psycopg.OperationalError):
        return ServiceUnavailableError("the database is unavailable, try again shortly")
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return ServiceUnavailableError("the cache is unavailable, try again shortly")
    if upstash is not None and isinstance(exc, upstash.UpstashError):
        return ServiceUnavailableError("the cache refused the request, try again shortly")
    return None


CORS_OPTIONS: dict[str, Any] = {
    "allow_credentials": True,
    "allow_methods": ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
    "allow_headers": ["authorization", "content-type", "if-none-match", "idempotency-key", "x-connection-id"],
    "expose_headers": ["etag", "x-request-id", "x-sync-version", "retry-after", "ratelimit-limit",
                       "ratelimit-remaining", "ratelimit-reset"],
    "max_age": 600,
}


class EdgeMiddleware:
    """Request id, security headers, CORS, body gates, and the last-resort 500 — in one ASGI layer.

    CORS runs only for requests that carry an ``Origin`` header: the others (same-origin, server to
    server, the scheduler) skip Starlette's CORS layer and its per-request header parsing.
    """

    def __init__(self, app: Callable, max_body: int, origins: list[str]) -> None:
        self.app = app
        self.max_body = max_body
        self.with_cors = CORSMiddleware(app, allow_origins=origins, **CORS_OPTIONS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        extra = [*SECURITY_HEADERS, (b"x-request-id", request_id.encode())]
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *extra]
                _count_errors(message["status"])
            await send(message)

        rejection = _gate(scope, self.max_body)
        if rejection is not None:
            await _send_error(rejection, scope, receive, send_with_headers)
            return
        logger.append_keys(request_id=request_id)
        context_token = request_context.connection_id.set(_header(scope, b"x-connection-id"))
        inner = self.with_cors if _header(scope, b"origin") is not None else self.app
        try:
            await inner(scope, _limited(receive, self.max_body), send_with_headers)
        except Exception as exc:  # the one place unexpected errors become a response
            if started:
                raise
            error = infrastructure_error(exc) or (exc if isinstance(exc, AppError) else None)
            if error is None:
                logger.exception("unhandled error", extra={"path": scope.get("path")})
                error = AppError("an unexpected error occurred; it has been logged", code="internal_error")
            else:
                logger.warning("request failed", extra={"code": error.code, "error": type(exc).__name__})
            await _send_error(error, scope, receive, send_with_headers)
        finally:
            logger.remove_keys(["request_id"])
            request_context.connection_id.reset(context_token)


def _count_errors(status: int) -> None:
    """An EMF metric per 4xx/5xx answer (the happy path pays nothing: no flush per success)."""
    if status < 400:
        return
    from aws_lambda_powertools.metrics import MetricUnit

    from shared.observability import metrics

    metrics.add_metric(name=f"Http{status // 100}xx", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()


def _request_id(scope: Scope) -> str:
    """API Gateway's request id when there is one, so logs join up with the gateway's."""
    event = scope.get("aws.event") or {}
    rid = (event.get("requestContext") or {}).get("requestId")
    return str(rid) if rid else str(uuid.uuid4())


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _gate(scope: Scope, max_body: int) -> AppError | None:
    """Reject oversized and non-JSON bodies before any route code runs."""
    from shared.errors import PayloadTooLargeError, UnsupportedMediaTypeError

    length = _header(scope, b"content-length")
    if length and length.isdigit() and int(length) > max_body:
        return PayloadTooLargeError(f"request body exceeds {max_body} bytes")
    if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
        return ValidationFailedError("the URL must not contain NUL characters", code="nul_character")
    raw_type = _header(scope, b"content-type")
    if scope["method"] in BODY_METHODS and (length not in (None, "0") or raw_type):
        ctype = (raw_type or "application/json").split(";")[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            return UnsupportedMediaTypeError("send the body as application/json")
    return None


def _limited(receive: Receive, max_body: int) -> Receive:
    """Guard against bodies without an honest content-length, and against NUL characters.

    Postgres text cannot hold U+0000; rather than let one reach a query and fail there, a body
    whose JSON carries ``\u0000`` (not an escaped backslash followed by "u0000") is refused here.
    """
    from shared.errors import PayloadTooLargeError, ValidationFailedError

    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > max_body:
            raise PayloadTooLargeError(f"request body exceeds {max_body} bytes")
        if b"u0000" in chunk and JSON_NUL.search(chunk):
            fields = _nul_fields(chunk)
            details = [{"field": f, "message": "must not contain NUL characters", "type": "nul_character"}
                       for f in fields] or None
            raise ValidationFailedError(f"text must not contain NUL characters: {', '.join(fields) or 'body'}",
                                        code="nul_character", details=details)
        return message

    return wrapped


def _nul_fields(body: bytes) -> list[str]:
    """The ``body.<path>`` of every string (key or value) holding U+0000, so the error names them."""
    try:
        document = json.loads(body)
    except ValueError:
        return []
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str) and "\x00" in value:
            found.append(path)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}.{index}")

    walk(document, "body")
    return found


async def _send_error(error: AppError, scope: Scope, receive: Receive, send: Send) -> None:
    response = envelope(error.status_code, error.code, error.message, error.details, error.headers)
    await response(scope, receive, send)


def dumps(value: Any) -> str:
    """Compact JSON, used where a function builds a body by hand."""
    return json.dumps(value, separators=(",", ":"), default=str)
