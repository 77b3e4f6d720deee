"""Realtime function: WebSocket tickets, the delta-sync polling fallback, and offline batches.

POST /api/v1/realtime/ticket → a 60-second single-use ticket and the URL to connect with it.
GET  /api/v1/sync?since=N   → the changes after version N in order (paged), or a full snapshot
                              (``shared.sync.delta``); the body's ``mode`` says which.
POST /api/v1/sync/batch     → apply a device's offline queue (``shared.sync.batch``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Query, Response
from mangum import Mangum

from shared.core.observability import observed
from shared.http.app import api_router, create_app
from shared.http.auth import CurrentPrincipal, CurrentUser
from shared.http.openapi import documented
from shared.http.responses import no_content, no_store_json
from shared.identity.tickets import connect_ticket
from shared.models.realtime import TicketPublic
from shared.models.sync import BatchResult, ConflictPage, SyncBatch, SyncChangesPublic, SyncSnapshotPublic
from shared.repositories.cursors import DEFAULT_LIMIT, MAX_LIMIT
from shared.sync import delta, inbox
from shared.sync.batch import announce, apply_batch

router = api_router(tags=["realtime"])


@router.post("/realtime/ticket", response_model=TicketPublic, status_code=201, **documented("realtime.ticket"))
async def create_ticket(principal: CurrentPrincipal) -> Response:
    """A single-use ticket (valid 60 s) and the WebSocket URL that carries it (bound to this sign-in)."""
    return no_store_json(connect_ticket(principal.user_id, principal.session_id), status=201)


@router.get("/sync", response_model=SyncChangesPublic | SyncSnapshotPublic,
            **documented("sync.get", 409, sync=True))
async def get_sync(
    user_id: CurrentUser,
    since: Annotated[int | None, Query(ge=0, le=delta.MAX_VERSION,
                                       description="the last version the client has")] = None,
) -> Response:
    """Changes after ``since`` (``has_more``/``next`` page through), or a snapshot; X-Sync-Version always."""
    body = delta.read(user_id, since)
    return no_store_json(body, sync_version=body.version)


@router.post("/sync/batch", response_model=BatchResult, **documented("sync.batch", sync=True))
async def sync_batch(user_id: CurrentUser, batch: SyncBatch) -> Response:
    """Apply an offline queue: each ``op_id`` once, last-write-wins, conflicts kept and announced."""
    result, outcomes = apply_batch(user_id, batch)
    announce(user_id, outcomes)
    return no_store_json(result, sync_version=result.version)


@router.get("/sync/conflicts", response_model=ConflictPage, **documented("sync.conflicts", sync=True))
async def list_conflicts(
    user_id: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1..100.")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page.")] = None,
) -> Response:
    """The caller's unacknowledged conflicts, oldest first (``GET /sync`` delivers them too)."""
    body, version = inbox.page(user_id, limit=limit, cursor=cursor)
    return no_store_json(body, sync_version=version)


@router.post("/sync/conflicts/{conflict_id}/ack", status_code=204,
             **documented("sync.ackConflict", sync=True, status=204))
async def acknowledge_conflict(user_id: CurrentUser, conflict_id: uuid.UUID) -> Response:
    """Clear a conflict from the inbox on every device (a tombstone in the change log); again: no-op."""
    return no_content(inbox.acknowledge(user_id, conflict_id))


app = create_app(router)
handler = observed(Mangum(app, lifespan="off"))  # ColdStart, and metrics flushed once per invocation
