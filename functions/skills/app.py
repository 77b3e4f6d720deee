"""Skills function: the character's skills, their level history and goals (``/api/v1/skills``,
``/progress``, ``/me/goals``).

Every route is one repository call (one Postgres statement). Writes then call
``shared.sync.notify.after_write`` once, the single place that notifies caches (and, later, devices).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Query, Request, Response
from mangum import Mangum

from shared.clients import db
from shared.core.errors import NotFoundError, SessionRevokedError
from shared.core.observability import observed
from shared.http.app import api_router, create_app
from shared.http.auth import CurrentUser
from shared.http.idempotency import keyed_id
from shared.http.openapi import documented
from shared.http.preconditions import Precondition, entity_json, precondition_failed
from shared.http.responses import no_content, private_json, sync_headers
from shared.models.categories import Category
from shared.models.skills import (
    GoalPage,
    ProgressPage,
    SkillCreate,
    SkillPage,
    SkillPublic,
    SkillSort,
    SkillUpdate,
)
from shared.repositories import goals, skills
from shared.repositories.cursors import DEFAULT_LIMIT, MAX_LIMIT
from shared.repositories.sql import WriteResult
from shared.sync.notify import after_conflict, after_write, conflict_notice, count_level_up

router = api_router(tags=["skills"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1..100.")]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page.")]


def _missing(version: int | None) -> NotFoundError:
    """The one 404 for a skill that is missing or someone else's: nothing tells them apart."""
    return NotFoundError("no such skill", headers=sync_headers(version))


def _written(user: uuid.UUID, result: WriteResult) -> WriteResult:
    if result.status == "revoked":
        raise SessionRevokedError()
    if result.status == "not_found":
        raise _missing(result.sync_version)
    if result.status == "stale":  # a precondition failed: recorded as a conflict by the statement
        if result.conflict is not None:
            after_conflict(user, conflict_notice(result.conflict), result.conflict.get("connections"))
        raise precondition_failed(result)
    if result.change is not None:
        after_write(user, result.change)
        count_level_up(result)
    return result


@router.get("/skills", response_model=SkillPage, **documented("skills.list", conditional=True, sync=True))
async def list_skills(request: Request, user: CurrentUser, category: Category | None = None,
                      sort: SkillSort = "name", limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Response:
    """The caller's skills, optionally in one category; keyset-paginated in a stable order."""
    version, page = db.run(lambda conn: skills.list_skills(
        conn, user, category=category and str(category), sort=sort, limit=limit, cursor=cursor))
    return private_json(request, page, version)


@router.post("/skills", response_model=SkillPublic, status_code=201,
             **documented("skills.create", 409, etag=True, sync=True, status=201))
async def create_skill(request: Request, user: CurrentUser, body: SkillCreate) -> Response:
    """Create a skill; its first history row records the starting level (and ``note``)."""
    fields = body.model_dump()
    skill_id = keyed_id(user)  # with an Idempotency-Key, a re-run finds the skill its first run made
    result = _written(user, db.run(lambda conn: skills.create_skill(conn, user, skill_id=skill_id,
                                                                    existing_ok=skill_id is not None, **fields)))
    return entity_json(request, result.entity or {}, result.sync_version or 0, status=201)


@router.get("/skills/{skill_id}", response_model=SkillPublic, **documented("skills.get", conditional=True, sync=True))
async def get_skill(request: Request, user: CurrentUser, skill_id: uuid.UUID) -> Response:
    version, item = db.run(lambda conn: skills.get_skill(conn, user, skill_id))
    if item is None:
        raise _missing(version)
    return entity_json(request, item, version)



@router.patch("/skills/{skill_id}", response_model=SkillPublic,
              **documented("skills.update", 409, 412, etag=True, sync=True))
async def update_skill(request: Request, user: CurrentUser, skill_id: uuid.UUID, body: SkillUpdate,
                       precondition: Precondition) -> Response:
    """Change some fields; a new ``level`` (with an optional ``note``) adds a history row atomically.

    With ``If-Match`` (the skill's ETag) or ``If-Unmodified-Since``, a skill changed meanwhile is
    a 412 carrying its current state; without, last write wins."""
    changes = body.changes()
    result = _written(user, db.run(lambda conn: skills.update_skill(conn, user, skill_id, changes, note=body.note,
                                                                    **precondition.as_params())))
    return entity_json(request, result.entity or {}, result.sync_version or 0)


@router.delete("/skills/{skill_id}", status_code=204, **documented("skills.delete", 412, sync=True, status=204))
async def delete_skill(user: CurrentUser, skill_id: uuid.UUID, precondition: Precondition) -> Response:
    """Delete a skill and its history; ``If-Match`` / ``If-Unmodified-Since`` as for PATCH."""
    result = _written(user, db.run(lambda conn: skills.delete_skill(conn, user, skill_id,
                                                                    **precondition.as_params())))
    return no_content(result.sync_version or 0)


@router.get("/skills/{skill_id}/progress", response_model=ProgressPage,
            **documented("skills.progress", conditional=True, sync=True))
async def skill_progress(request: Request, user: CurrentUser, skill_id: uuid.UUID, limit: Limit = DEFAULT_LIMIT,
                         cursor: Cursor = None) -> Response:
    """One skill's level history, newest first."""
    version, page = db.run(lambda conn: skills.skill_progress(conn, user, skill_id, limit=limit, cursor=cursor))
    if page is None:
        raise _missing(version)
    return private_json(request, page, version)


@router.get("/progress", response_model=ProgressPage, **documented("progress.list", conditional=True, sync=True))
async def timeline(request: Request, user: CurrentUser, since: datetime | None = None,
                   limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Response:
    """Level changes across all the caller's skills since ``since`` (ISO 8601), newest first."""
    version, page = db.run(lambda conn: skills.timeline(conn, user, since=since, limit=limit, cursor=cursor))
    return private_json(request, page, version)


@router.get("/me/goals", response_model=GoalPage, **documented("goals.list", conditional=True, sync=True))
async def list_goals(request: Request, user: CurrentUser, limit: Limit = DEFAULT_LIMIT,
                     cursor: Cursor = None) -> Response:
    """The caller's goals, soonest target date first, each with its status on the caller's local
    date (profile ``timezone``): ``reached`` (with ``reached_at``), ``overdue``, ``due_soon`` (within
    7 days) or ``open``. Goals are set and cleared through the skill writes (``goal`` in
    ``POST /skills``, ``PATCH /skills/{skill_id}`` and ``POST /sync/batch``)."""
    version, page = db.run(lambda conn: goals.list_goals(conn, user, limit=limit, cursor=cursor))
    return private_json(request, page, version)


app = create_app(router)
handler = observed(Mangum(app, lifespan="off"))  # ColdStart, and metrics flushed once per invocation
