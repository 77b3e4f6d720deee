"""The public views (profile JSON, SVG card, leaderboard) built from Postgres and cached in Redis.

Each view is a finished body (str), so a cache hit costs one Redis GET and no serialisation, and
the strong ETag is the hash of exactly those bytes. Missing or private profiles are not cached
(so making a profile public shows it at once) and look identical: ``None``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from shared.clients import db
from shared.core.encoding import json_bytes
from shared.public import cache as public_cache
from shared.public import flight
from shared.public.card import render_card
from shared.public.character import aggregate, build_stats, character_level
from shared.repositories import profiles

USERNAME = re.compile(r"[A-Za-z0-9_]{3,30}")
LEADERBOARD_SIZE = 100


def cached(key: str, ttl_s: int, build: Callable[[], str | None]) -> str | None:
    """The cached body under ``key``, else ``build()`` (run by one caller at a time, see
    ``shared.public.flight``) stored for ``ttl_s`` seconds (unless None)."""
    return flight.cached(key, ttl_s, build)


def _build_profile(username: str) -> str | None:
    row = db.run(lambda conn: profiles.public_profile(conn, username))
    if row is None:
        return None
    skills = row.pop("skills")
    document = {**row, "character": build_stats(aggregate(skills)), "skills": skills}
    return json_bytes(document).decode()


def profile_body(username: str) -> str | None:
    """The public profile JSON of ``username`` (case-insensitive), or None when missing or private."""
    if not USERNAME.fullmatch(username):
        return None
    return cached(public_cache.profile_key(username), public_cache.PROFILE_TTL_S, lambda: _build_profile(username))


def _build_card(username: str) -> str | None:
    body = profile_body(username)
    if body is None:
        return None
    document = json.loads(body)
    return render_card(document, document["character"])


def card_body(username: str) -> str | None:
    """The SVG card of a public profile, or None; built from the (cached) public profile."""
    if not USERNAME.fullmatch(username):
        return None
    return cached(public_cache.card_key(username), public_cache.CARD_TTL_S, lambda: _build_card(username))


def _build_leaderboard(category: str | None) -> str:
    rows = db.run(lambda conn: profiles.leaderboard(conn, category, LEADERBOARD_SIZE))
    entries = [{**row, "character_level": character_level(row["total_level"])} for row in rows]
    return json_bytes({"category": category, "entries": entries}).decode()


def leaderboard_body(category: str | None) -> str:
    """Top public profiles overall or within ``category``; cached for a short time."""
    body = cached(public_cache.leaderboard_key(category), public_cache.LEADERBOARD_TTL_S,
                  lambda: _build_leaderboard(category))
    assert body is not None
    return body
