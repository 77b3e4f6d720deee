"""WebSocket ``$connect``: redeem the single-use ticket from the query string, register the connection.

A non-2xx answer makes API Gateway refuse the upgrade: 401 without a ticket, 403 for a forged,
expired or already-used one (or when its user was deleted meanwhile), 503 when Redis or Postgres
cannot be reached (the client retries with a new ticket).

Once registered, it invokes ``WS_HELLO_FUNCTION`` asynchronously (``InvocationType="Event"``): that
function sends the ``hello`` frame, which this handler cannot — API Gateway opens the connection
only after this handler has returned (``functions/ws_hello``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from shared.clients import db
from shared.clients.failures import infrastructure_error
from shared.core.deadline import bounded
from shared.core.errors import ServiceUnavailableError
from shared.core.observability import logger, observed
from shared.core.settings import get_settings
from shared.identity.tickets import redeem
from shared.repositories import connections


@observed  # ColdStart, and metrics flushed once per invocation
@bounded  # outbound calls fit in the invocation (shared.core.deadline)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = event["requestContext"]
    ticket = (event.get("queryStringParameters") or {}).get("ticket")
    if not ticket:
        return _answer(401, "a ticket is required: POST /api/v1/realtime/ticket, then connect to its url")
    try:
        holder = redeem(ticket)
        if holder is None:
            return _answer(403, "the ticket is invalid, expired or already used")
        user_id, session_id = holder
        millis = ctx.get("connectedAt")
        connected_at = datetime.fromtimestamp(millis / 1000, UTC) if millis else datetime.now(UTC)
        db.run(lambda conn: connections.register(conn, connection_id=ctx["connectionId"], user_id=user_id,
                                                 connected_at=connected_at,
                                                 max_lifetime_s=get_settings().ws_max_lifetime_s,
                                                 session_id=session_id))
    except Exception as exc:
        status = _refusal(exc)
        if status is None:
            raise
        logger.warning("connect refused", extra={"error": type(exc).__name__, "status": status})
        return _answer(status, "cannot connect right now" if status == 503 else "the ticket's user no longer exists")
    logger.info("connected", extra={"connection_id": ctx["connectionId"]})
    _request_hello(ctx["connectionId"])
    return _answer(200, "connected")


def _request_hello(connection_id: str) -> None:
    """Invoke the hello function without waiting for it; a failure costs only the hello frame."""
    function = get_settings().ws_hello_function
    if not function:
        return
    from botocore.exceptions import BotoCoreError, ClientError

    from shared.clients import aws

    payload = json.dumps({"connection_id": connection_id}).encode()
    try:
        aws.client("lambda").invoke(FunctionName=function, InvocationType="Event", Payload=payload)
    except (BotoCoreError, ClientError) as exc:
        logger.warning("hello not requested", extra={"connection_id": connection_id, "error": type(exc).__name__})


def _answer(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "body": message}


def _refusal(exc: Exception) -> int | None:
    """403 when the ticket's user was deleted (foreign key), 503 when a dependency is down, else None."""
    import psycopg

    if isinstance(exc, psycopg.errors.ForeignKeyViolation):
        return 403
    if isinstance(exc, ServiceUnavailableError) or infrastructure_error(exc) is not None:
        return 503
    return None
