"""A WebSocket handler for gateway tests: records every event; ``?status=`` sets $connect's answer."""

from __future__ import annotations

from typing import Any

events: list[dict[str, Any]] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    events.append(event)
    if event["requestContext"]["routeKey"] == "$connect":
        return {"statusCode": int((event.get("queryStringParameters") or {}).get("status", 200)), "body": "nope"}
    if "crash" in (event.get("body") or ""):
        raise RuntimeError("boom")
    return {"statusCode": 200}
