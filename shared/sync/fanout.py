"""Push messages to a user's open WebSocket connections through the API Gateway management API.

Small pieces, after chalice's websocket support: the management client
(``shared.clients.websocket``), ``Sender`` (posts one message to one connection and says whether it
was delivered, gone or failed) and ``publish()`` (loads the user's connections in one query and
posts to all of them concurrently). A 410 GoneException means that connection died without a
``$disconnect`` (AWS only calls it best effort): that one connection row is deleted — never the
writer's, which is excluded from the fan-out in the first place.

Excluding the writer: a client learns its connection id from the ``pong`` reply to
``{"action": "ping"}`` and may send it as an ``X-Connection-Id`` header on its writes; the write
path passes it as ``exclude_connection_id`` so the device does not receive its own change.
"""

from __future__ import annotations

import contextvars
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from shared.clients import db
from shared.clients.websocket import FAN_OUT_THREADS, management_client
from shared.core.observability import FAN_OUT_FAILURES, count, logger
from shared.repositories import connections

# API Gateway refuses frames over 128 KB; stay well under so headers and growth never bite.
MAX_MESSAGE_BYTES = 32 * 1024

Outcome = Literal["sent", "gone", "failed"]
# Threads are started lazily by the executor and live for the container, like the boto3 client.
_pool = ThreadPoolExecutor(max_workers=FAN_OUT_THREADS, thread_name_prefix="publish")


@dataclass
class PublishResult:
    """What a fan-out did: counts for tests and logs, and which connections turned out gone."""

    sent: int = 0
    failed: int = 0
    gone: list[str] = field(default_factory=list)
    resync: bool = False
    skipped: str | None = None

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + len(self.gone)


def _json_default(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)  # UUIDs, Decimals


def encode(message: dict[str, Any]) -> tuple[bytes, bool]:
    """The message as compact JSON, or a ``resync`` hint when it would be too big; (data, resynced)."""
    data = json.dumps(message, separators=(",", ":"), default=_json_default).encode()
    if len(data) <= MAX_MESSAGE_BYTES:
        return data, False
    hint = {"type": "resync", "version": message.get("version")}
    return json.dumps(hint, default=_json_default).encode(), True


class Sender:
    """Posts to one connection; turns the management API's answers into an ``Outcome``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, connection_id: str, data: bytes) -> Outcome:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=data)
            return "sent"
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "GoneException":
                return "gone"
            logger.warning("post_to_connection failed", extra={"connection_id": connection_id,
                                                               "error": exc.response.get("Error", {}).get("Code")})
            return "failed"
        except BotoCoreError as exc:
            logger.warning("post_to_connection failed", extra={"connection_id": connection_id,
                                                               "error": type(exc).__name__})
            return "failed"

    def close(self, connection_id: str) -> None:
        """Close a connection from the server side (best effort; a gone one is already closed)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except (ClientError, BotoCoreError):
            logger.info("delete_connection failed", extra={"connection_id": connection_id})


def send_to_connection(connection_id: str, message: dict[str, Any]) -> Outcome:
    """Post one message to one connection (replies to the caller of a WebSocket route)."""
    client = management_client()
    if client is None:
        raise RuntimeError("WEBSOCKET_MANAGEMENT_URL is not configured")
    data, _ = encode(message)
    return Sender(client).post(connection_id, data)


def close_connection(connection_id: str) -> None:
    client = management_client()
    if client is not None:
        Sender(client).close(connection_id)


def publish(user_id: uuid.UUID, message: dict[str, Any], exclude_connection_id: str | None = None,
            connection_ids: list[str] | None = None) -> PublishResult:
    """Send ``message`` to every open connection of ``user_id`` except ``exclude_connection_id``.

    The connections come from ``connection_ids`` when the caller already has them (a write
    statement returns them, saving a round trip), else from one query; the posts run concurrently
    on a small module-level pool; connections that answered 410 are deleted in one statement.
    """
    client = management_client()
    if client is None:
        return PublishResult(skipped="no WEBSOCKET_MANAGEMENT_URL configured")
    if connection_ids is None:
        ids = db.run(lambda conn: connections.live_for_user(conn, user_id, exclude_connection_id))
    else:
        ids = [cid for cid in connection_ids if cid != exclude_connection_id]
    if not ids:
        return PublishResult()
    data, resync = encode(message)
    sender = Sender(client)
    # A pool thread has its own (empty) context: each post runs in a copy of the caller's, so the
    # invocation's deadline (shared.core.deadline) bounds it as it bounds the caller's own calls. One
    # copy per post: a context cannot be entered by two threads at once.
    contexts = [contextvars.copy_context() for _ in ids]
    outcomes = list(_pool.map(lambda ctx, cid: ctx.run(sender.post, cid, data), contexts, ids))
    result = PublishResult(resync=resync)
    for cid, outcome in zip(ids, outcomes, strict=True):
        if outcome == "sent":
            result.sent += 1
        elif outcome == "gone":  # that connection only; the writer's was never in ``ids``
            result.gone.append(cid)
        else:
            result.failed += 1
    count(FAN_OUT_FAILURES, result.failed)  # gone connections are not failures: they were cleaned up
    if result.gone:
        db.run(lambda conn: connections.remove_stale(conn, user_id, result.gone))
    logger.info("published", extra={"sent": result.sent, "gone": len(result.gone), "failed": result.failed,
                                    "resync": result.resync})
    return result


def change_message(change: dict[str, Any]) -> dict[str, Any]:
    """The WebSocket message for one change-log entry: ids, version, and the changed entity."""
    return {"type": "change", "version": change.get("version"), "entity": change.get("entity"),
            "entity_id": change.get("entity_id"), "op": change.get("op"), "data": change.get("data")}


def publish_change(user_id: uuid.UUID, change: dict[str, Any],
                   exclude_connection_id: str | None = None) -> PublishResult:
    """Publish a committed change to the user's other devices. Never raises: the write already
    succeeded, and a device that misses the push catches up through ``GET /sync``."""
    try:
        return publish(user_id, change_message(change), exclude_connection_id, change.get("connections"))
    except Exception as exc:  # best effort by design; logged, never surfaced to the writer
        logger.warning("publish_change failed", extra={"error": type(exc).__name__})
        count(FAN_OUT_FAILURES)
        return PublishResult(skipped=f"error: {type(exc).__name__}")
