"""Per-request facts that deep code needs without every route passing them along.

``connection_id``: the caller's own WebSocket connection (header ``X-Connection-Id``, learnt from
the ``pong`` reply), so a write is pushed to the user's *other* devices and not echoed back.
``session_id``: the sign-in (refresh family, the token's ``sid``) of the authenticated caller, set by
the auth dependency; write statements check it is still live (``shared.repositories.sql``), so a
revoked device stops writing at once. The edge resets it around each request.
``idempotency_key``: the request's ``Idempotency-Key`` while its first run executes (set by
``shared.http.idempotency``), so a create can derive its new id from it and a re-run finds it.
``connection_id`` is set and reset by ``shared.http.app.EdgeMiddleware`` around each request; None elsewhere.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

connection_id: ContextVar[str | None] = ContextVar("connection_id", default=None)
idempotency_key: ContextVar[str | None] = ContextVar("idempotency_key", default=None)
session_id: ContextVar[uuid.UUID | None] = ContextVar("session_id", default=None)
