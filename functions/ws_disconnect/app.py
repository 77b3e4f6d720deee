"""WebSocket ``$disconnect``: forget the connection. Best effort, like AWS's own delivery of this event:
a failure here only leaves a row that the next fan-out removes when it gets 410 Gone."""

from __future__ import annotations

from typing import Any

from shared.clients import db
from shared.core.deadline import bounded
from shared.core.observability import logger, observed
from shared.repositories import connections


@observed  # ColdStart, and metrics flushed once per invocation
@bounded  # outbound calls fit in the invocation (shared.core.deadline)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = event["requestContext"]
    connection_id = ctx["connectionId"]
    try:
        known = db.run(lambda conn: connections.remove(conn, connection_id))
    except Exception as exc:  # nothing to tell: the client is gone already
        logger.warning("disconnect cleanup failed", extra={"connection_id": connection_id,
                                                           "error": type(exc).__name__})
        return {"statusCode": 200}
    logger.info("disconnected", extra={"connection_id": connection_id, "known": known,
                                       "status": ctx.get("disconnectStatusCode")})
    return {"statusCode": 200}
