"""JSON bytes and strong validators, defined once so a body is serialised once and its ETag is the
hash of exactly the bytes sent — whether an HTTP route sends it or a cache stores it first.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON (the same bytes Starlette's JSONResponse would send)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def etag_of(body: bytes) -> str:
    """A strong validator: the first 128 bits of the body's SHA-256, quoted."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
