"""Digest function: the one-click unsubscribe link in every digest (GET /api/v1/digest/unsubscribe)."""

from __future__ import annotations

from typing import Annotated

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Header, Query, Response
from mangum import Mangum

from shared.clients import db
from shared.core.errors import BadRequestError, NotFoundError
from shared.digests import unsubscribe
from shared.http.app import api_router, create_app
from shared.http.responses import no_store, no_store_json
from shared.models.digests import UnsubscribePublic
from shared.repositories import digests as repo

router = api_router("/digest", tags=["digest"])

CONFIRMATION = ("<!doctype html><html><head><meta charset='utf-8'><title>Unsubscribed</title></head>"
                "<body><p>You will no longer receive the weekly Atribuo digest.</p></body></html>")


@router.get("/unsubscribe", response_model=UnsubscribePublic, operation_id="digest.unsubscribe",
            responses={200: {"content": {"text/html": {}}}})
async def unsubscribe_link(token: Annotated[str, Query(min_length=1, max_length=200)],
                           accept: Annotated[str, Header()] = "") -> Response:
    """Valid signed token → opted out (idempotent); HTML for browsers, JSON when asked for."""
    user_id = unsubscribe.read_token(token)
    if user_id is None:
        raise BadRequestError("this unsubscribe link is invalid", code="invalid_token")
    if not db.run(lambda conn: repo.opt_out(conn, user_id)):
        raise NotFoundError("no such subscriber")
    if "application/json" in accept:
        return no_store_json(UnsubscribePublic(unsubscribed=True))
    return no_store(CONFIRMATION.encode(), media_type="text/html")


app = create_app(router)
handler = Mangum(app, lifespan="off")
