"""The one JSON error envelope, ``{"error": {"code", "message", "details"}}``, and the handlers that map
typed errors, validation failures and Starlette's HTTP errors onto it (registered by ``create_app``).

Issue 17: ``message`` (and each ``details`` message) is in the caller's language (``shared.core.i18n``:
the user's setting, else ``Accept-Language``, else English); ``code`` never changes. Every envelope
says ``Content-Language``, ``Vary: Accept-Language`` when the header chose it, and ``Cache-Control:
no-store`` unless the error sets its own. The public views (profile, card, leaderboard) stay
language-neutral: one cached body per URL, no ``Vary`` on the language, whatever the caller asks for.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.core import i18n
from shared.core.errors import CODE_MESSAGES, AppError
from shared.models.errors import ErrorEnvelope

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
    """The one error body: ``{"error": {"code", "message", "details"}}``, with ``message`` and
    ``details`` already in the answer's language (``language_headers`` says which)."""
    body = {"error": {"code": code, "message": message, "details": details}}
    # An error's words depend on the caller (language), and a public route's 404 must not be kept by a
    # shared cache keyed on the URL alone: no error is stored unless it says otherwise.
    merged = {"Cache-Control": "no-store", **(headers or {})}
    for name, value in language_headers().items():
        merged[name] = f"{merged[name]}, {value}" if name == "Vary" and merged.get(name) else value
    return JSONResponse(body, status_code=status, headers=merged)


def language_headers() -> dict[str, str]:
    """``Content-Language`` of an answer in the current language, and ``Vary: Accept-Language`` when
    that header decided it (a user's own setting is the same whatever the header says)."""
    headers = {"Content-Language": i18n.current()}
    if i18n.chosen_by_header():
        headers["Vary"] = "Accept-Language"
    return headers


def error_response(exc: AppError) -> JSONResponse:
    """``exc`` as the envelope, in the current language."""
    message, details = exc.localized()
    return envelope(exc.status_code, exc.code, message, details, exc.headers)


async def app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc)


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    """422 naming each bad field; a body that is not JSON at all is a 400."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return envelope(400, "invalid_json", i18n._("the request body is not valid JSON"))
    details = [
        {"field": ".".join(str(part) for part in err.get("loc", ())), "message": i18n.field_message(err),
         "type": err.get("type", "")}
        for err in errors
    ]
    fields = ", ".join(d["field"] for d in details)
    return envelope(422, "validation_error", i18n._("invalid input: {fields}").format(fields=fields), details)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, AppError):  # FastAPI wraps errors raised while reading the body
        return await app_error(request, exc.__cause__)
    codes = {404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        message = i18n._(i18n.N_("no such route"))
    elif code == "http_error" and i18n.current() == i18n.DEFAULT:
        message = str(exc.detail)  # Starlette's own words in English; the code's sentence in another language
    else:
        message = i18n._(CODE_MESSAGES[code])
    return envelope(exc.status_code, code, message, headers=exc.headers)
