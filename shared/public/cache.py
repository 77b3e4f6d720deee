"""Redis cache of the public views: a profile, its card, and the leaderboards.

Keys are derived from the lower-cased username (the views are looked up by username) and the
leaderboard scope. A write calls ``invalidate(username, leaderboards=…)``, which drops the keys the
write can affect in ONE Redis call (a single multi-key DEL): the writer's profile and card always,
the leaderboards only for a profile write (a skill write of one user must not empty every board:
they refresh on their short TTL). Rebuilds after a miss are single-flight (``shared.public.flight``).
Reads fail open: when Redis is unreachable the
view is computed from Postgres instead of failing the request.

Known window: a reader that fetched from Postgres just before a write commits may store the old
view just after the write's DEL; the TTL bounds that staleness (PROFILE_TTL_S / LEADERBOARD_TTL_S).
"""

from __future__ import annotations

from shared.core.observability import logger
from shared.models.categories import CATEGORIES

PROFILE_TTL_S = 300
CARD_TTL_S = 300
LEADERBOARD_TTL_S = 30
PREFIX = "pub:v1"


def profile_key(username: str) -> str:
    return f"{PREFIX}:profile:{username.lower()}"


def card_key(username: str) -> str:
    return f"{PREFIX}:card:{username.lower()}"


def card_png_key(svg_digest: str) -> str:
    """The PNG of the card whose SVG hashes to ``svg_digest``: content-addressed, so it is never
    invalidated by itself. Dropping the SVG (``card_key``) is enough: a new SVG names another PNG,
    and a PNG nobody names any more expires after CARD_TTL_S."""
    return f"{PREFIX}:cardpng:{svg_digest}"


def leaderboard_key(category: str | None) -> str:
    return f"{PREFIX}:leaderboard:{category or 'all'}"


def distribution_key() -> str:
    """Listed users per character level (issue 17): dropped with the boards, as it counts the same users."""
    return f"{PREFIX}:leaderboard-distribution"


def leaderboard_keys() -> list[str]:
    return [leaderboard_key(None), *(leaderboard_key(c) for c in CATEGORIES), distribution_key()]


def keys_for(username: str | None, *, leaderboards: bool = False) -> list[str]:
    """What a write by ``username`` must drop: their profile and card; and every leaderboard when
    asked (a profile write: name, avatar or visibility shown on the boards). Skill writes leave the
    boards to their short TTL (issue 14): a board is a ranking, refreshed every LEADERBOARD_TTL_S."""
    user_keys = [profile_key(username), card_key(username)] if username else []
    return [*user_keys, *(leaderboard_keys() if leaderboards else [])]


def get(key: str) -> str | None:
    from shared.clients.redis import get_redis

    try:
        value = get_redis().get(key)
    except Exception as exc:  # fail open: Postgres can still answer
        logger.warning("cache read failed", extra={"key": key, "error": type(exc).__name__})
        return None
    return value if isinstance(value, str) else None


def put(key: str, value: str, ttl_s: int) -> None:
    from shared.clients.redis import get_redis

    try:
        get_redis().set(key, value, ex=ttl_s)
    except Exception as exc:
        logger.warning("cache write failed", extra={"key": key, "error": type(exc).__name__})


def invalidate(username: str | None, *, leaderboards: bool = False) -> None:
    """Drop the public views a write by ``username`` may have changed: one DEL, one round trip."""
    from shared.clients.redis import get_redis

    keys = keys_for(username, leaderboards=leaderboards)
    if keys:
        get_redis().delete(*keys)
