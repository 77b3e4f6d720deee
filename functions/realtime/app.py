"""Realtime function: WebSocket tickets and the delta-sync polling fallback.

POST /api/v1/realtime/ticket → a 60-second single-use ticket and the URL to connect with it.
POST /api/v1/sync/batch    → apply a device's offline queue (see shared.sync_batch).
GET  /api/v1/sync?since=N   → the changes after version N in order (paged), or a full snapshot when
N is older than the compacted log or absent; the body's ``mode`` says which. A ``since`` ahead of
the server's version is a 409: the client's state did not come from this server (a restored
database, another stage), so it must drop it and take a snapshot — an empty answer would hide that.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import shared.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Query
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import BaseModel

from shared import db
from shared.account_schemas import ProfilePublic
from shared.api import api_router, create_app
from shared.auth import CurrentUser
from shared.errors import ConflictError, NotFoundError, ServiceUnavailableError
from shared.repositories import sync
from shared.settings import get_settings
from shared.skill_models import SkillPublic
from shared.sync_batch import BatchResult, SyncBatch, announce, apply_batch
from shared.tickets import issue_ticket

router = api_router(tags=["realtime"])
SYNC_PAGE_SIZE = 500
MAX_VERSION = 2**62
NO_STORE = {"cache-control": "no-store"}


class TicketPublic(BaseModel):
    ticket: str
    url: str
    expires_in: int


class ChangePublic(BaseModel):
    version: int
    entity: str
    entity_id: str
    op: str
    data: dict[str, Any] | None
    created_at: datetime


class SyncChangesPublic(BaseModel):
    mode: Literal["changes"] = "changes"
    version: int
    changes: list[ChangePublic]
    has_more: bool
    next: int | None


class SyncSnapshotPublic(BaseModel):
    mode: Literal["snapshot"] = "snapshot"
    version: int
    skills: list[SkillPublic]
    profile: ProfilePublic


@router.post("/realtime/ticket", response_model=TicketPublic, status_code=201)
async def create_ticket(user_id: CurrentUser) -> JSONResponse:
    """A single-use ticket (valid 60 s) and the WebSocket URL that carries it."""
    base = get_settings().websocket_url
    if not base:
        raise ServiceUnavailableError("realtime is not configured on this stage")
    ticket, ttl = issue_ticket(user_id)
    separator = "&" if "?" in base else "?"
    body = TicketPublic(ticket=ticket, url=f"{base}{separator}{urlencode({'ticket': ticket})}", expires_in=ttl)
    return JSONResponse(body.model_dump(), status_code=201, headers=NO_STORE)


@router.get("/sync", response_model=SyncChangesPublic | SyncSnapshotPublic,
            responses={409: {"description": "since is ahead of the server's version: take a snapshot"}})
async def get_sync(
    user_id: CurrentUser,
    since: Annotated[int | None, Query(ge=0, le=MAX_VERSION, description="the last version the client has")] = None,
) -> JSONResponse:
    """Changes after ``since`` (``has_more``/``next`` page through), or a snapshot; X-Sync-Version always."""
    row = db.run(lambda conn: sync.read(conn, user_id, since, SYNC_PAGE_SIZE + 1))
    if row is None:
        raise NotFoundError("user not found")
    version = int(row["version"])
    headers = {**NO_STORE, "x-sync-version": str(version)}
    if row["mode"] == "snapshot":
        body: BaseModel = SyncSnapshotPublic(version=version, skills=row["skills"], profile=row["profile"])
    elif since is not None and since > version:
        raise ConflictError(f"since={since} is ahead of the server's version {version}; "
                            "discard local state and fetch a snapshot (omit since)",
                            code="version_ahead", details={"version": version}, headers=headers)
    else:
        changes = row["changes"]
        page, has_more = changes[:SYNC_PAGE_SIZE], len(changes) > SYNC_PAGE_SIZE
        body = SyncChangesPublic(version=version, changes=page, has_more=has_more,
                                 next=page[-1]["version"] if has_more else None)
    return JSONResponse(body.model_dump(mode="json"), headers=headers)


@router.post("/sync/batch", response_model=BatchResult)
async def sync_batch(user_id: CurrentUser, batch: SyncBatch) -> JSONResponse:
    """Apply an offline queue: each ``op_id`` once, last-write-wins, conflicts kept and announced."""
    result, outcomes = apply_batch(user_id, batch)
    announce(user_id, outcomes)
    headers = {**NO_STORE, "x-sync-version": str(result.version)}
    return JSONResponse(result.model_dump(mode="json"), headers=headers)


app = create_app(router)
handler = Mangum(app, lifespan="off")
