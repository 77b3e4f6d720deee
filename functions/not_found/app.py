"""The HTTP API's ``$default`` route: every request no explicit route matched.

API Gateway's own answer to an unknown route is ``{"message": "Not Found"}`` for every case; this
tiny function (no FastAPI, so it starts in a few milliseconds) answers with our error envelope
instead, and tells a wrong method (405, with ``Allow``) from an unknown path (404). The route
table comes from ``routes.json``, generated from ``template.yaml`` by ``make routes`` (a test
keeps the two in sync).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

ROUTES_FILE = Path(__file__).with_name("routes.json")
SECURITY_HEADERS = {
    "content-type": "application/json",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "referrer-policy": "no-referrer",
}


@lru_cache(maxsize=1)
def _routes() -> list[tuple[re.Pattern[str], str]]:
    table = json.loads(ROUTES_FILE.read_text())
    return [(re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$"), method)
            for path, methods in table.items() for method in methods]


def _allowed(path: str) -> list[str]:
    return sorted({method for pattern, method in _routes() if pattern.match(path)})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = event.get("rawPath", "/")
    allowed = _allowed(path)
    status, code, message = (405, "method_not_allowed", "method not allowed on this route") if allowed \
        else (404, "not_found", "no such route")
    headers = dict(SECURITY_HEADERS)
    if allowed:
        headers["allow"] = ", ".join(allowed)
    body = {"error": {"code": code, "message": message, "details": {"path": path} if not allowed else
                      {"path": path, "allowed": allowed}}}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}
