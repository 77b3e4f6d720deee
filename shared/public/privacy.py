"""Privacy never goes stale (issue 13): hiding a profile is refused while its cached public views
cannot be dropped.

The public profile and its card are cached in Redis by username (``shared.public.cache``); a write
drops them after it commits, and a failed drop used to be only logged, so a profile made private
while Redis was unreachable came back public (and its card was even rebuilt from the stale profile)
once Redis returned. A change that hides a profile therefore drops its cached views FIRST, and is
refused with a 503 (``cache_unavailable``, nothing written) when that cannot be done; the write's own
drop follows as for every write. Once hidden, nothing public is cached for it (private profiles are
never cached). Other writes keep failing open: a stale public view of a still-public profile is
bounded by the cache TTL.

Known window (documented, not closed): a public read that missed the cache, read Postgres in the few
milliseconds before the hiding write committed and stored its body after the first drop, survives
only if Redis also fails in the instant between that commit and the write's own drop: then for at
most ``PROFILE_TTL_S``. CDNs: the profile JSON is ``no-cache`` (every use revalidates: 404 at once);
the card allows ``max-age`` + ``stale-while-revalidate`` (``CARD_CDN_BOUND_S``), then 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.clients import db
from shared.core.errors import ServiceUnavailableError
from shared.core.observability import logger
from shared.public import cache as public_cache
from shared.repositories import profiles

CARD_STALE_WHILE_REVALIDATE_S = 60
CARD_CDN_BOUND_S = public_cache.CARD_TTL_S + CARD_STALE_WHILE_REVALIDATE_S


def hides(changes: dict[str, Any]) -> bool:
    """Whether a profile change makes the profile private, or takes it off the leaderboards (issue 17:
    the opt-out leaves the cached boards and the level distribution by the same rule)."""
    settings = changes.get("privacy_settings") or {}
    return settings.get("profile_visibility") == "private" or settings.get("leaderboard") == "hidden"


def drop_before_hiding(user_id: uuid.UUID, changes: dict[str, Any] | None = None) -> None:
    """Drop the cached public views of a profile about to be hidden (made private, or taken off the
    leaderboards: ``changes``), or refuse (503) the change.

    One read for the username (profiles are cached by name; a rare path), then one DEL.
    """
    _, profile = db.run(lambda conn: profiles.get_profile(conn, user_id))
    stored = profile.get("privacy_settings") or {}
    if stored.get("profile_visibility") == "private":
        return  # already hidden: nothing public is cached for it, and it is on no board
    going_private = changes is None or (changes.get("privacy_settings") or {}).get("profile_visibility") == "private"
    if not going_private and stored.get("leaderboard") == "hidden":
        return  # already off the boards: nothing cached lists it
    try:
        public_cache.invalidate(profile["username"], leaderboards=True)  # the boards list it too
    except Exception as exc:
        logger.warning("refused to hide a profile: cache unreachable", extra={"error": type(exc).__name__})
        raise ServiceUnavailableError("the profile cannot be made private while its public copies cannot be "
                                      "dropped; nothing was changed, try again shortly",
                                      code="cache_unavailable") from exc
