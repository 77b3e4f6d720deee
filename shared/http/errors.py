"""The one JSON error envelope, ``{"error": {"code", "message", "details"}}``, and the handlers that map
typed errors, validation failures and Starlette's HTTP errors onto it (registered by ``create_app``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.core.errors import AppError
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
    """The one error body: ``{"error": {"code", "message", "details"}}``."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


async def app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return envelope(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
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


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, AppError):  # FastAPI wraps errors raised while reading the body
        return await app_error(request, exc.__cause__)
    codes = {404: "not_found", 405: "method_not_allowed"}
    message = {404: "no such route", 405: "method not allowed on this route"}.get(exc.status_code, str(exc.detail))
    return envelope(exc.status_code, codes.get(exc.status_code, "http_error"), message, headers=exc.headers)
