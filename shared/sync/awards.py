"""Achievements earned by a write: settle the rare re-check, and announce each award like any change.

A skill write run with ``award=True`` awards in its own statement (``shared.repositories.achievements``).
Its facts come from the statement's snapshot; when another write of the same user committed after
that snapshot (``WriteResult.recheck``), an achievement needing both writes could be missed, so
``settle`` evaluates once more with a fresh snapshot. Exactly-once still holds in the database (the
primary key and ``ON CONFLICT DO NOTHING``), so re-evaluating is always safe, never a second award.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from shared.clients import db
from shared.core.observability import logger
from shared.repositories import achievements
from shared.repositories.sql import WriteResult

if TYPE_CHECKING:
    import psycopg

Row = dict[str, Any]


def award_now(conn: psycopg.Connection, user_id: uuid.UUID) -> list[Row]:
    """Award what the user's rows earn now (one statement): the new awards' change rows, each with
    ``username`` and ``connections`` for ``shared.sync.notify.after_write``."""
    row = achievements.award(conn, user_id)
    if row is None:
        return []
    extra = {"username": row["username"], "connections": row["connections"]}
    return [{**change, **extra} for change in row["awards"] or ()]


def settle(conn: psycopg.Connection, user_id: uuid.UUID, result: WriteResult) -> list[Row]:
    """Every award ``result``'s write earned: those of its own statement, plus (only when it raced
    another write of the user's) those of one fresh evaluation."""
    extra = award_now(conn, user_id) if result.recheck else []
    return [*result.awards, *extra]


def after_rest_write(user_id: uuid.UUID, result: WriteResult) -> None:
    """After a committed REST write: announce it with the awards it earned (one cache invalidation,
    then each push), settling a race first with one more statement. The write has committed, so a
    failing re-check is logged, never an error: the user's next write (or the backfill) evaluates again."""
    from shared.sync.notify import after_writes

    found = list(result.awards)
    if result.recheck:
        try:
            found += db.run(lambda conn: award_now(conn, user_id))
        except Exception as exc:
            logger.warning("achievement re-check failed", extra={"user_id": str(user_id),
                                                                 "error": type(exc).__name__})
    after_writes(user_id, [change for change in (result.change, *found) if change is not None])
