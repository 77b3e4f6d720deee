"""WebSocket messages: ``ping`` → ``pong`` with the user's sync version; ``$default`` → a clear error.

Replies go to the caller through the management API (``post_to_connection``): API Gateway sends a
route's return value back only when the route has a route response, and posting works the same
locally and in AWS. The pong also tells the client its connection id, which it may send back as
``X-Connection-Id`` on writes so its own changes are not echoed to it.
"""

from __future__ import annotations

import json
from typing import Any

from shared.clients import db
from shared.core.deadline import bounded
from shared.core.observability import observed
from shared.repositories import connections
from shared.sync.fanout import close_connection, send_to_connection

ACTIONS = ["ping"]


@observed  # ColdStart, and metrics flushed once per invocation
@bounded  # outbound calls fit in the invocation (shared.core.deadline)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = event["requestContext"]
    connection_id = ctx["connectionId"]
    if ctx.get("routeKey") == "ping":
        return _pong(connection_id)
    send_to_connection(connection_id, _unknown_action(event.get("body")))
    return {"statusCode": 400}


def _pong(connection_id: str) -> dict[str, Any]:
    row = db.run(lambda conn: connections.touch(conn, connection_id))
    if row is None:  # not registered (swept, or its user deleted): make the client reconnect
        send_to_connection(connection_id, {"type": "error", "code": "not_registered",
                                           "message": "this connection is not registered; reconnect with a new ticket"})
        close_connection(connection_id)
        return {"statusCode": 410}
    send_to_connection(connection_id, {"type": "pong", "version": row["sync_version"],
                                       "connection_id": connection_id})
    return {"statusCode": 200}


def _unknown_action(body: str | None) -> dict[str, Any]:
    """Say what was wrong: not JSON, no ``action``, or an action we do not have."""
    try:
        action = json.loads(body or "").get("action")
    except (ValueError, AttributeError):
        return {"type": "error", "code": "invalid_message",
                "message": 'messages must be JSON objects like {"action": "ping"}'}
    if not isinstance(action, str) or not action:
        return {"type": "error", "code": "missing_action", "message": 'messages need an "action"; supported: ping'}
    return {"type": "error", "code": "unknown_action",
            "message": f"unknown action {action[:64]!r}; supported: {', '.join(ACTIONS)}"}
