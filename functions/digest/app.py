"""Digest function: the unsubscribe link in every digest (GET/POST /api/v1/digest/unsubscribe?token=).

Mail scanners and link previewers follow GET links, so a GET only *shows* a confirmation page whose
button POSTs; the POST unsubscribes. Mail clients that honour RFC 8058 (``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` in every digest) POST ``List-Unsubscribe=One-Click`` as a form to the
same URL, so this app lets form bodies through the edge gate; the token in the URL is what counts.
"""

from __future__ import annotations

import uuid
from html import escape
from typing import Annotated

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Header, Query, Response
from mangum import Mangum

from shared.clients import db
from shared.core import i18n
from shared.core.errors import BadRequestError, NotFoundError
from shared.core.i18n import N_, _
from shared.core.observability import observed
from shared.digests import unsubscribe
from shared.http.app import api_router, create_app
from shared.http.errors import language_headers
from shared.http.responses import no_store, no_store_json
from shared.models.digests import UnsubscribePublic
from shared.repositories import digests as repo

router = api_router("/digest", tags=["digest"])
PAGE = ("<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'><title>{title}</title></head>"
        "<body style='margin:0;padding:48px 16px;background:#020617;color:#e2e8f0;"
        "font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;text-align:center'>"
        "<h1 style='font-size:24px'>{title}</h1>{body}</body></html>")
Token = Annotated[str, Query(min_length=1, max_length=200)]


def _user(token: str) -> uuid.UUID:
    user_id = unsubscribe.read_token(token)
    if user_id is None:
        raise BadRequestError("this unsubscribe link is invalid", code="invalid_token")
    return user_id


def _answer(unsubscribed: bool, accept: str, title: str, body: str) -> Response:
    """JSON for an API client; else the page, in the language the browser asks for (issue 17)."""
    if "application/json" in accept:
        return no_store_json(UnsubscribePublic(unsubscribed=unsubscribed))
    html = PAGE.format(lang=i18n.current(), title=escape(_(title)), body=body)
    return no_store(html.encode(), media_type="text/html", headers=language_headers())


@router.get("/unsubscribe", response_model=UnsubscribePublic, operation_id="digest.unsubscribe",
            responses={200: {"content": {"text/html": {}},
                             "description": "A confirmation page (nothing changes until it is POSTed)"}})
async def confirm_unsubscribe(token: Token, accept: Annotated[str, Header()] = "") -> Response:
    """Check the link and show a page whose button unsubscribes; a GET itself changes nothing."""
    _user(token)
    form = (f"<p>{escape(_('Stop the weekly Atribuo digest?'))}</p>"
            f"<form method='post' action='?token={escape(token, quote=True)}'>"
            "<input type='hidden' name='List-Unsubscribe' value='One-Click'>"
            "<button type='submit' style='font-size:16px;padding:12px 24px;border:0;border-radius:6px;"
            f"background:#38bdf8;color:#0f172a;font-weight:700;cursor:pointer'>{escape(_('Unsubscribe'))}</button>"
            "</form>")
    return _answer(False, accept, N_("Unsubscribe from the weekly digest"), form)


@router.post("/unsubscribe", response_model=UnsubscribePublic, operation_id="digest.unsubscribeConfirm",
             responses={200: {"content": {"text/html": {}}}},
             openapi_extra={"requestBody": {"required": False, "content": {
                 "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                     "List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}}}}}}})
async def unsubscribe_now(token: Token, accept: Annotated[str, Header()] = "") -> Response:
    """Valid signed token → opted out (idempotent); the RFC 8058 one-click POST and the page's button."""
    user_id = _user(token)
    if not db.run(lambda conn: repo.opt_out(conn, user_id)):
        raise NotFoundError("no such subscriber")
    body = f"<p>{escape(_('You will no longer receive the weekly Atribuo digest.'))}</p>"
    return _answer(True, accept, N_("Unsubscribed"), body)


app = create_app(router, form_bodies=True, signed_in=False)  # anonymous: the token in the link is the proof
handler = observed(Mangum(app, lifespan="off"))  # ColdStart, and metrics flushed once per invocation
