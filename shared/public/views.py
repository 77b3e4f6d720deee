"""The public views (profile JSON, SVG card, leaderboard) built from Postgres and cached in Redis.

Each view is a finished body (str), so a cache hit costs one Redis GET and no serialisation, and
the strong ETag is the hash of exactly those bytes. Missing or private profiles are not cached
(so making a profile public shows it at once) and look identical: ``None``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable

from shared.clients import db
from shared.core.encoding import etag_of, json_bytes
from shared.public import cache as public_cache
from shared.public import flight
from shared.public.card import render_card
from shared.public.character import aggregate, build_stats, character_level
from shared.repositories import avatars, profiles

USERNAME = re.compile(r"[A-Za-z0-9_]{3,30}")
LEADERBOARD_SIZE = 100
OG_WIDTH, OG_HEIGHT = 1200, 630  # card.png (shared.public.png checks the card has this shape)


def cached(key: str, ttl_s: int, build: Callable[[], str | None]) -> str | None:
    """The cached body under ``key``, else ``build()`` (run by one caller at a time, see
    ``shared.public.flight``) stored for ``ttl_s`` seconds (unless None)."""
    return flight.cached(key, ttl_s, build)


def _build_profile(username: str) -> str | None:
    row = db.run(lambda conn: profiles.public_profile(conn, username))
    if row is None:
        return None
    skills = row.pop("skills")
    character = build_stats(aggregate(skills))
    document = {**row, "character": character, "skills": skills, "open_graph": open_graph(row, character)}
    return json_bytes(document).decode()


def open_graph(profile: dict, character: dict) -> dict:
    """What a frontend puts in its Open Graph / Twitter card tags for this profile's page."""
    from shared.core.settings import get_settings

    name = profile.get("display_name") or profile["username"]
    strongest = sorted((c for c in character["categories"] if c["skill_count"]),
                       key=lambda c: (-c["total_level"], c["category"]))[:3]
    description = (f"Character level {character['character_level']} · {character['skill_count']} skills"
                   + (" · strongest in " + ", ".join(c["category"] for c in strongest) if strongest else ""))
    base = get_settings().public_api_url.rstrip("/")
    return {
        "title": f"{name} (@{profile['username']}) on Atribuo",
        "description": description,
        "image": f"{base}/api/v1/users/{profile['username']}/card.png",
        "image_type": "image/png",
        "image_width": OG_WIDTH,
        "image_height": OG_HEIGHT,
        "image_alt": f"{name}'s character card: level {character['character_level']}, a radar of skill categories",
    }


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
    # Issue 17: the avatar's 128 px bytes, embedded (one more statement, only for a user who has one)
    avatar = db.run(lambda conn: avatars.card_avatar(conn, username)) if document.get("avatar_urls") else None
    return render_card(document, document["character"], avatar)


def card_body(username: str) -> str | None:
    """The SVG card of a public profile, or None; built from the (cached) public profile."""
    if not USERNAME.fullmatch(username):
        return None
    return cached(public_cache.card_key(username), public_cache.CARD_TTL_S, lambda: _build_card(username))


def card_png_body(username: str) -> bytes | None:
    """The 1200 x 630 PNG of a public profile's card, or None; cached (base64) under the hash of the
    SVG it was drawn from, so it changes exactly when the SVG does."""
    from shared.public.png import render_png

    svg = card_body(username)
    if svg is None:
        return None
    key = public_cache.card_png_key(etag_of(svg.encode()).strip('"'))
    encoded = cached(key, public_cache.CARD_TTL_S, lambda: base64.b64encode(render_png(svg)).decode())
    assert encoded is not None
    return base64.b64decode(encoded)


def _build_leaderboard(category: str | None) -> str:
    from shared.public.ranks import next_cursor

    rows = db.run(lambda conn: profiles.leaderboard(conn, category, LEADERBOARD_SIZE + 1))  # +1: a next page?
    entries = [{**row, "character_level": character_level(row["total_level"])} for row in rows[:LEADERBOARD_SIZE]]
    return json_bytes({"category": category, "entries": entries, "next_cursor": next_cursor(category, rows,
                       LEADERBOARD_SIZE), "unranked_reason": None}).decode()


def leaderboard_body(category: str | None) -> str:
    """Top public profiles overall or within ``category``; cached for a short time."""
    body = cached(public_cache.leaderboard_key(category), public_cache.LEADERBOARD_TTL_S,
                  lambda: _build_leaderboard(category))
    assert body is not None
    return body
