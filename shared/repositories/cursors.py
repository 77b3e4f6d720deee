"""Opaque keyset cursors: URL-safe base64 of ``[sort, value, id]``.

Keyset (not offset) pagination, so a page never repeats or skips rows when others are inserted
meanwhile; the sort name travels inside the cursor so a cursor from one ordering cannot be replayed
against another. Clients must treat the string as opaque.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from shared.core.errors import ValidationFailedError
from shared.core.i18n import N_

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def encode_cursor(sort: str, value: Any, row_id: Any) -> str:
    raw = json.dumps([sort, value, str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: str, value_type: Callable[[Any], Any],
                  id_type: Callable[[str], Any]) -> tuple[Any, Any]:
    """``(value, id)`` from a cursor made for ``sort``, or ``(None, None)`` without one.

    Cursors are opaque but forgeable: the value and id are re-parsed with ``value_type`` / ``id_type``
    so a doctored cursor is a 422 naming ``query.cursor``, never a database error.
    """
    if not cursor:
        return None, None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, row_id = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise _bad_cursor(N_("is not a cursor this API issued")) from exc
    if kind != sort:
        raise _bad_cursor(N_("was issued for another sort order"))
    try:
        return value_type(value), id_type(str(row_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise _bad_cursor(N_("is not a cursor this API issued")) from exc


def _bad_cursor(reason: str) -> ValidationFailedError:
    return ValidationFailedError("invalid input: query.cursor {reason}", params={"reason": reason},
                                 details=[{"field": "query.cursor", "message": reason, "type": "cursor"}])


def page(rows: list[dict[str, Any]], limit: int, sort: str) -> dict[str, Any]:
    """``{"items", "next_cursor"}`` from ``limit + 1`` rows ``{"item", "k"}`` (``k``: the sort key).

    The extra row only proves there is a next page; the cursor points after the last row shown.
    """
    shown = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_cursor(sort, shown[-1]["k"], shown[-1]["item"]["id"]) if more and shown else None
    return {"items": [row["item"] for row in shown], "next_cursor": next_cursor}
