"""Digest function: the one-click unsubscribe link in every digest (GET /api/v1/digest/unsubscribe)."""

from __future__ import annotations

from typing import Annotated

import shared.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Header, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from mangum import Mangum
from pydantic import BaseModel

from shared import db, unsubscribe
from shared.api import api_router, create_app
from shared.errors import BadRequestError, NotFoundError
from shared.repositories import digests as repo

router = api_router("/digest", tags=["digest"])

CONFIRMATION = ("<!doctype html><html><head><meta charset='utf-8'><title>Unsubscribed</title></head>"
                "<body><p>You will no longer receive the weekly Atribuo digest.</p></body></html>")


class UnsubscribePublic(BaseModel):
    unsubscribed: bool


@router.get("/unsubscribe", response_model=UnsubscribePublic,
            responses={200: {"content": {"text/html": {}}}})
async def unsubscribe_link(token: Annotated[str, Query(min_length=1, max_length=200)],
                           accept: Annotated[str, Header()] = "") -> Response:
    """Valid signed token → opted out (idempotent); HTML for browsers, JSON when asked for."""
    user_id = unsubscribe.read_token(token)
    if user_id is None:
        raise BadRequestError("this unsubscribe link is invalid", code="invalid_token")
    if not db.run(lambda conn: repo.opt_out(conn, user_id)):
        raise NotFoundError("no such subscriber")
    headers = {"cache-control": "no-store"}
    if "application/json" in accept:
        return JSONResponse(UnsubscribePublic(unsubscribed=True).model_dump(), headers=headers)
    return HTMLResponse(CONFIRMATION, headers=headers)


app = create_app(router)
handler = Mangum(app, lifespan="off")
