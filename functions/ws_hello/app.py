"""The ``hello`` frame: ``{"type": "hello", "connection_id", "version"}``, sent to every new connection.

API Gateway opens a WebSocket connection only after the ``$connect`` integration has returned 2xx;
a ``post_to_connection`` before that (from ``$connect`` itself) gets 410 GoneException. AWS's
advice ("410 GoneException" in the API Gateway knowledge center) is this: ``$connect`` invokes a
child function asynchronously with the connection id, and the child posts. It may still run before
the handshake has finished, so a 410 is retried a few times over about a second and a half; after
that the client has gone (or will learn its id from ``pong``).

``version`` is the user's ``sync_version`` read *after* the connection was registered: every change
committed later is also pushed to this connection, so ``GET /sync?since=<version>`` plus the pushes
leave no gap.
"""

from __future__ import annotations

import time
from typing import Any

from shared.clients import db
from shared.core.deadline import bounded
from shared.core.observability import logger, observed
from shared.repositories import connections
from shared.sync.fanout import send_to_connection

RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4, 0.8)


@observed  # ColdStart, and metrics flushed once per invocation
@bounded  # outbound calls fit in the invocation (shared.core.deadline)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    connection_id = str(event["connection_id"])
    row = db.run(lambda conn: connections.touch(conn, connection_id))
    if row is None:  # closed (and $disconnect ran) before we got here
        return {"sent": False, "reason": "not_registered"}
    hello = {"type": "hello", "connection_id": connection_id, "version": row["sync_version"]}
    outcome = send_to_connection(connection_id, hello)
    for delay in RETRY_DELAYS_S:
        if outcome != "gone":
            break
        time.sleep(delay)  # API Gateway has not finished the handshake yet
        outcome = send_to_connection(connection_id, hello)
    if outcome != "sent":
        logger.warning("hello not delivered", extra={"connection_id": connection_id, "outcome": outcome})
    return {"sent": outcome == "sent", "reason": outcome}
