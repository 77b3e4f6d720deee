"""``EdgeMiddleware``: what every HTTP function does before and after its routes, in one ASGI layer.

Request id, security headers, CORS, the body-size / content-type / NUL gates, the caller's address
behind CloudFront (``shared.http.viewer``: trusted only with the stage's origin secret), and the
last-resort mapping of anything unexpected to the error envelope. One pure-ASGI middleware rather than several
``BaseHTTPMiddleware`` layers, because each of those costs a task and a queue per request.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.middleware.cors import CORSMiddleware

from shared.clients.failures import infrastructure_error
from shared.core import context as request_context
from shared.core import deadline, i18n
from shared.core.errors import AppError, ValidationFailedError
from shared.core.observability import logger
from shared.http import cors
from shared.http.errors import error_response
from shared.http.viewer import trust_viewer_address

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


class EdgeMiddleware:
    """Request id, security headers, CORS, body gates, and the last-resort 500 — in one ASGI layer.

    CORS runs only for requests that carry an ``Origin`` header: the others (same-origin, server to
    server, the scheduler) skip Starlette's CORS layer and its per-request header parsing.
    """

    def __init__(self, app: Callable, max_body: int, origins: list[str], form_bodies: bool = False) -> None:
        self.app = app
        self.max_body = max_body
        self.form_bodies = form_bodies
        self.with_cors = CORSMiddleware(app, allow_origins=origins, **cors.OPTIONS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        through_edge = trust_viewer_address(scope)  # before anything reads the client or the headers
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

        # issue 17: the language Accept-Language asks for; the auth dependency may set the user's own
        language_token = i18n.header_locale.set(i18n.negotiate(_header(scope, b"accept-language")))
        user_language_token = i18n.user_locale.set(None)
        rejection = _bypass(through_edge) or _gate(scope, self.max_body, self.form_bodies)
        if rejection is not None:
            try:
                await _send_error(rejection, scope, receive, send_with_headers)
            finally:
                i18n.header_locale.reset(language_token)
                i18n.user_locale.reset(user_language_token)
            return
        logger.append_keys(request_id=request_id)
        context_token = request_context.connection_id.set(_header(scope, b"x-connection-id"))
        deadline_token = deadline.start(scope.get("aws.context"))  # every outbound call fits in it
        session_token = request_context.session_id.set(None)
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
            deadline.end(deadline_token)
            request_context.session_id.reset(session_token)
            i18n.header_locale.reset(language_token)
            i18n.user_locale.reset(user_language_token)


def _count_errors(status: int) -> None:
    """An EMF metric per 4xx/5xx answer, printed with the invocation's others when it ends
    (``shared.core.observability.observed``); an invocation that counted nothing prints nothing."""
    if status < 400:
        return
    from shared.core.observability import count

    count(f"Http{status // 100}xx")


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


def _bypass(through_edge: bool | None) -> AppError | None:
    """Where the stage has the edge (``EDGE_REQUIRED``), a request that did not come through the
    distribution went around its WAF (the execute-api URL): refused. Unknown (the origin secret
    unreadable) is a 503, not a verdict on the caller."""
    from shared.core.errors import ForbiddenError, ServiceUnavailableError
    from shared.core.settings import get_settings

    if through_edge or not get_settings().edge_required:
        return None
    if through_edge is None:
        return ServiceUnavailableError("the service is unavailable, try again shortly")
    return ForbiddenError("call the API at its public address")


def _gate(scope: Scope, max_body: int, form_bodies: bool = False) -> AppError | None:
    """Reject oversized and non-JSON bodies before any route code runs."""
    from shared.core.errors import PayloadTooLargeError, UnsupportedMediaTypeError

    length = _header(scope, b"content-length")
    if length and length.isdigit() and int(length) > max_body:
        return PayloadTooLargeError("request body exceeds {max_body} bytes", params={"max_body": max_body})
    if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
        return ValidationFailedError("the URL must not contain NUL characters", code="nul_character")
    raw_type = _header(scope, b"content-type")
    if scope["method"] in BODY_METHODS and (length not in (None, "0") or raw_type):
        ctype = (raw_type or "application/json").split(";")[0].strip().lower()
        if form_bodies and ctype == "application/x-www-form-urlencoded":
            return None
        if ctype != "application/json" and not ctype.endswith("+json"):
            return UnsupportedMediaTypeError("send the body as application/json")
    return None


def _limited(receive: Receive, max_body: int) -> Receive:
    """Guard against bodies without an honest content-length, and against NUL characters.

    Postgres text cannot hold U+0000; rather than let one reach a query and fail there, a body
    whose JSON carries ``\u0000`` (not an escaped backslash followed by "u0000") is refused here.
    """
    from shared.core.errors import PayloadTooLargeError, ValidationFailedError

    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > max_body:
            raise PayloadTooLargeError("request body exceeds {max_body} bytes", params={"max_body": max_body})
        if b"u0000" in chunk and JSON_NUL.search(chunk):
            fields = _nul_fields(chunk)
            details = [{"field": f, "message": i18n.N_("must not contain NUL characters"), "type": "nul_character"}
                       for f in fields] or None
            raise ValidationFailedError("text must not contain NUL characters: {fields}", code="nul_character",
                                        params={"fields": ", ".join(fields) or "body"}, details=details)
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
    await error_response(error)(scope, receive, send)
