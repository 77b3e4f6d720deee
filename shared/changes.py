"""``after_write``: the ONE place a committed write notifies the rest of the system.

Every route that changes a user's data calls it once with the ``changes`` row it appended (see
``shared.repositories.sql.WriteResult.change``: entity, entity_id, op, version, data, created_at,
plus ``username`` for cache keys). Today it invalidates the cached public views in one Redis call;
the realtime fan-out to the user's other devices (issue 5) belongs here too, so no route needs to
know who listens.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared import public_cache
from shared.observability import logger


def after_write(user_id: uuid.UUID, change: dict[str, Any]) -> None:
    """Invalidate the public profile, card and leaderboards ``change`` may affect.

    The write has already committed, so a cache failure must not turn it into an error response:
    it is logged, and the short TTLs bound how long a stale public view can survive.
    """
    try:
        public_cache.invalidate(change.get("username"))
    except Exception as exc:
        logger.warning("cache invalidation failed", extra={"user_id": str(user_id), "error": type(exc).__name__,
                                                           "version": change.get("version")})
