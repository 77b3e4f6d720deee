"""Per-request facts that deep code needs without every route passing them along.

``connection_id``: the caller's own WebSocket connection (header ``X-Connection-Id``, learnt from
the ``pong`` reply), so a write is pushed to the user's *other* devices and not echoed back.
``idempotency_key``: the request's ``Idempotency-Key`` while its first run executes (set by
``shared.http.idempotency``), so a create can derive its new id from it and a re-run finds it.
``connection_id`` is set and reset by ``shared.http.app.EdgeMiddleware`` around each request; None elsewhere.
"""

from __future__ import annotations

from contextvars import ContextVar

connection_id: ContextVar[str | None] = ContextVar("connection_id", default=None)
idempotency_key: ContextVar[str | None] = ContextVar("idempotency_key", default=None)
