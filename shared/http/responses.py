"""The one way routes answer: JSON (or any pre-built body) with the right caching headers.

* ``private_json`` — per-user data: a strong ETag, ``If-None-Match`` → 304, ``private, no-cache``,
  ``Vary: Authorization`` and the caller's ``X-Sync-Version``.
* ``respond`` — any body with an ETag and the given ``Cache-Control`` (public views, the card, keys).
* ``no_store_json`` — what must never be cached or revalidated (tokens, tickets, sync reads, health).
* ``no_content`` — a 204 with the caller's ``X-Sync-Version``.

Bodies are serialised once here (``shared.core.encoding``), so the ETag is computed over the bytes
actually sent; a 304 carries the same validators and headers but no body. Routes return these
Response objects directly, which also skips FastAPI's second serialisation pass.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

from shared.core.encoding import etag_of, json_bytes
from shared.core.headers import NO_STORE, PRIVATE, SYNC_VERSION

TOKEN_HEADERS = {"Pragma": "no-cache"}  # RFC 6749 5.1: token responses are no-store and no-cache


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag equal under weak comparison."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def sync_headers(sync_version: int | None) -> dict[str, str]:
    return {SYNC_VERSION: str(sync_version)} if sync_version is not None else {}


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def respond(request: Request, body: bytes, *, status: int = 200, media_type: str = "application/json",
            cache_control: str = PRIVATE, sync_version: int | None = None,
            headers: dict[str, str] | None = None, etag: str | None = None) -> Response:
    """The body with ETag (``etag``, else the body's hash) and Cache-Control; a 304 when a GET's
    ``If-None-Match`` already has it."""
    etag = etag or etag_of(body)
    all_headers = {"ETag": etag, "Cache-Control": cache_control, **sync_headers(sync_version), **(headers or {})}
    if cache_control.startswith("private"):  # per user; a localized body also names Accept-Language
        all_headers["Vary"] = ", ".join(filter(None, ("Authorization", (headers or {}).get("Vary"))))
    if request.method in ("GET", "HEAD") and status == 200 and matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=all_headers)
    return Response(body, status_code=status, media_type=media_type, headers=all_headers)


def private_json(request: Request, value: Any, sync_version: int, status: int = 200,
                 headers: dict[str, str] | None = None) -> Response:
    """An authenticated JSON response: per-user caching rules and the caller's ``X-Sync-Version``."""
    return respond(request, json_bytes(_plain(value)), status=status, sync_version=sync_version, headers=headers)


def no_store(body: bytes, *, status: int = 200, media_type: str = "application/json",
             sync_version: int | None = None, headers: dict[str, str] | None = None) -> Response:
    """A body no cache may keep (no validator either: there is nothing to revalidate)."""
    all_headers = {"Cache-Control": NO_STORE, **sync_headers(sync_version), **(headers or {})}
    return Response(body, status_code=status, media_type=media_type, headers=all_headers)


def no_store_json(value: Any, *, status: int = 200, sync_version: int | None = None,
                  headers: dict[str, str] | None = None) -> Response:
    """JSON (a model or plain data) that no cache may keep."""
    return no_store(json_bytes(_plain(value)), status=status, sync_version=sync_version, headers=headers)


def no_content(sync_version: int | None = None) -> Response:
    return Response(status_code=204, headers=sync_headers(sync_version))
