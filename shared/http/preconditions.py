"""Conditional writes of synced entities (RFC 9110 §13.1): ``If-Match`` and ``If-Unmodified-Since``.

A skill and the owner's profile are served with a strong ETag computed from the entity's canonical
JSON (its Postgres ``jsonb`` text; ``entity_etag``) and a ``Last-Modified`` from its ``updated_at``.
The write statements recompute the same ETag in SQL (``shared.repositories.sql.etag_sql``) and check
the client's precondition on the row they lock, so the check and the write are one statement: no
window between them. A failed precondition is a 412 in the error envelope carrying the current entity
(``details.current``) and the conflict it was recorded as (``details.conflict``). Without a
precondition a write is last-write-wins, as before.

``If-Match`` wins over ``If-Unmodified-Since`` (§13.2.2); ``If-Match: *`` only asks that the entity
exists, which every write checks anyway; weak tags never match (strong comparison); an
``If-Unmodified-Since`` that is not an HTTP-date is ignored (§13.1.4). HTTP-dates have whole seconds,
so the entity passes when its ``updated_at`` truncated to the second is not later than the date.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from shared.core.encoding import etag_of, json_bytes
from shared.core.errors import PreconditionFailedError
from shared.http.responses import respond, sync_headers
from shared.repositories.sql import WriteResult

NEVER_MATCHES = ['""']  # what a list of weak tags becomes: no stored entity has an empty ETag


@dataclass(frozen=True)
class Preconditions:
    """``if_match``: strong ETags (None: no If-Match); ``unmodified_since``: the latest stored
    ``updated_at`` that still passes (None: no date)."""

    if_match: list[str] | None = None
    unmodified_since: datetime | None = None

    def as_params(self) -> dict[str, Any]:
        return {"if_match": self.if_match, "if_unmodified_since": self.unmodified_since, "record_conflict": True}


def parse(if_match: str | None, if_unmodified_since: str | None) -> Preconditions:
    if if_match is not None:
        tags = [tag.strip() for tag in if_match.split(",") if tag.strip()]
        if "*" in tags:
            return Preconditions()
        return Preconditions(if_match=[t for t in tags if not t.startswith("W/")] or NEVER_MATCHES)
    if if_unmodified_since:
        try:
            date = parsedate_to_datetime(if_unmodified_since)
        except (TypeError, ValueError, IndexError):
            return Preconditions()
        if date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
        return Preconditions(unmodified_since=date + timedelta(seconds=1) - timedelta(microseconds=1))
    return Preconditions()


async def _preconditions(request: Request) -> Preconditions:
    return parse(request.headers.get("if-match"), request.headers.get("if-unmodified-since"))


Precondition = Annotated[Preconditions, Depends(_preconditions)]


def entity_etag(entity: dict[str, Any]) -> str:
    """The strong ETag of a synced entity: over its canonical (Postgres ``jsonb``) text, which is
    ``json.dumps`` with the default separators of the dict psycopg decoded from that jsonb."""
    return etag_of(json.dumps(entity, ensure_ascii=False).encode())


def validators(entity: dict[str, Any]) -> dict[str, str]:
    """``ETag`` and ``Last-Modified`` of a synced entity."""
    headers = {"ETag": entity_etag(entity)}
    stamp = entity.get("updated_at")
    if isinstance(stamp, str):
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
        headers["Last-Modified"] = format_datetime(moment, usegmt=True)
    return headers


def entity_json(request: Request, entity: dict[str, Any], sync_version: int, status: int = 200) -> Response:
    """A synced entity as JSON, with the validators a conditional write sends back."""
    checks = validators(entity)
    return respond(request, json_bytes(entity), status=status, sync_version=sync_version, etag=checks["ETag"],
                   headers={k: v for k, v in checks.items() if k != "ETag"})


def precondition_failed(result: WriteResult) -> PreconditionFailedError:
    """The 412 for a write whose precondition failed: the current entity and the recorded conflict."""
    current = result.entity or {}
    conflict = result.conflict.get("data") if result.conflict else None
    headers = {**validators(current), **sync_headers(result.sync_version)} if current else {}
    return PreconditionFailedError("the entity changed since the version this write was based on",
                                   details={"current": result.entity, "conflict": conflict}, headers=headers)
