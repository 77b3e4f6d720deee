"""``after_write``: the ONE place a committed write notifies the rest of the system.

Every route that changes a user's data calls it once with the ``changes`` row it appended (see
``shared.repositories.sql.WriteResult.change``: entity, entity_id, op, version, data, created_at,
plus ``username`` for cache keys). It invalidates the cached public views in one Redis call (the
leaderboards only for profile writes), then pushes the change to the user's other devices over the
WebSocket API, so no route needs to know who listens. Both run after the commit and never turn a
committed write into an error.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.core import context as request_context
from shared.core.observability import CONFLICTS, LEVEL_UPS, count, logger
from shared.public import cache as public_cache
from shared.repositories.sql import WriteResult
from shared.sync import fanout as realtime


def after_write(user_id: uuid.UUID, change: dict[str, Any]) -> None:
    """Invalidate the public views ``change`` may affect, then push it to the user's other devices.

    The write has already committed, so neither step may turn it into an error response: a cache
    failure is logged (short TTLs bound how long a stale public view survives), and a device that
    misses the push catches up through ``GET /sync``.
    """
    try:
        public_cache.invalidate(change.get("username"), leaderboards=change.get("entity") == "profile")
    except Exception as exc:
        logger.warning("cache invalidation failed", extra={"user_id": str(user_id), "error": type(exc).__name__,
                                                           "version": change.get("version")})
    realtime.publish_change(user_id, change, exclude_connection_id=request_context.connection_id.get())


def conflict_notice(change: dict[str, Any]) -> dict[str, Any]:
    """The ``conflict`` WebSocket message for a conflict's change-log entry (``entity = 'conflict'``)."""
    return {"type": "conflict", "version": change.get("version"), **(change.get("data") or {})}


def after_conflict(user_id: uuid.UUID, notice: dict[str, Any], connections: list[str] | None = None) -> None:
    """Tell the user's other devices that an edit lost (or won) a conflict. The notice is also in
    the change log, so a device that misses this push gets it from ``GET /sync``. Every recorded
    conflict (REST precondition or offline batch) passes here once: it is counted here."""
    count(CONFLICTS)
    try:
        realtime.publish(user_id, notice, exclude_connection_id=request_context.connection_id.get(),
                         connection_ids=connections)
    except Exception as exc:  # the batch has committed; devices also see the result through GET /sync
        logger.warning("conflict notice failed", extra={"user_id": str(user_id), "error": type(exc).__name__})


def after_acknowledged(user_id: uuid.UUID, change: dict[str, Any]) -> None:
    """A conflict was acknowledged (a tombstone in the change log): the other devices clear it too.
    No public view depends on the inbox, so no cache is touched."""
    realtime.publish_change(user_id, change, exclude_connection_id=request_context.connection_id.get())


def count_level_up(result: WriteResult) -> None:
    """The ``LevelUps`` metric: an applied skill write whose level went up (a PATCH, or an offline
    ``skill.update`` in ``POST /sync``; a new skill's starting level is not a level-up)."""
    before, after = result.previous or {}, result.entity or {}
    if result.status == "applied" and isinstance(before.get("level"), int) and isinstance(after.get("level"), int) \
            and after["level"] > before["level"]:
        count(LEVEL_UPS)
