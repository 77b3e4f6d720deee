"""Responses with a strong ETag (a hash of the exact body) and ``If-None-Match`` → 304.

Bodies are serialised once here, so the ETag is computed over the bytes actually sent; a 304 carries
the same validators and headers (``X-Sync-Version`` included) but no body. Routes return these
Response objects directly, which also skips FastAPI's second serialisation pass.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request, Response

SYNC_HEADER = "X-Sync-Version"
PRIVATE = "private, no-cache"  # per-user data: a browser may keep it but must revalidate (cheap 304)


def etag_of(body: bytes) -> str:
    """A strong validator: the first 128 bits of the body's SHA-256, quoted."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag equal under weak comparison."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def sync_headers(sync_version: int | None) -> dict[str, str]:
    return {SYNC_HEADER: str(sync_version)} if sync_version is not None else {}


def respond(request: Request, body: bytes, *, status: int = 200, media_type: str = "application/json",
            cache_control: str = PRIVATE, sync_version: int | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """The body with ETag and Cache-Control; a 304 when a GET's ``If-None-Match`` already has it."""
    etag = etag_of(body)
    all_headers = {"ETag": etag, "Cache-Control": cache_control, **sync_headers(sync_version), **(headers or {})}
    if cache_control.startswith("private"):
        all_headers["Vary"] = "Authorization"
    if request.method in ("GET", "HEAD") and status == 200 and matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=all_headers)
    return Response(body, status_code=status, media_type=media_type, headers=all_headers)


def private_json(request: Request, value: Any, sync_version: int, status: int = 200) -> Response:
    """An authenticated JSON response: per-user caching rules and the caller's ``X-Sync-Version``."""
    return respond(request, json_bytes(value), status=status, sync_version=sync_version)


def no_content(sync_version: int) -> Response:
    return Response(status_code=204, headers=sync_headers(sync_version))
