"""Profiles function: my profile and character sheet, public profiles, their SVG card, the leaderboard.

The public routes (``/users/…``, ``/leaderboard``) are anonymous by design: they answer the same for
everyone (privacy → 404 for all, owner included), which is what makes them cacheable in Redis and
by browsers and CDNs. The ``/me`` routes carry the caller's ``X-Sync-Version``.
"""

from __future__ import annotations

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Request, Response
from mangum import Mangum

from shared.clients import db
from shared.core.errors import NotFoundError
from shared.http.app import api_router, create_app
from shared.http.auth import CurrentUser
from shared.http.openapi import documented, merged
from shared.http.preconditions import Precondition, entity_json, precondition_failed
from shared.http.responses import private_json, respond
from shared.models.categories import Category
from shared.models.profiles import CharacterStats, Leaderboard, ProfilePublic, ProfileUpdate, PublicProfile
from shared.public import cache as public_cache
from shared.public import views as public_views
from shared.public.character import build_stats
from shared.repositories import profiles
from shared.sync.notify import after_conflict, after_write, conflict_notice

router = api_router(tags=["profiles"])
PUBLIC_PROFILE_CACHING = "public, no-cache"  # always revalidate: a 304 from Redis is cheap
CARD_CACHING = f"public, max-age={public_cache.CARD_TTL_S}, stale-while-revalidate=86400"
LEADERBOARD_CACHING = f"public, max-age={public_cache.LEADERBOARD_TTL_S}"


@router.get("/me/profile", response_model=ProfilePublic, **documented("profile.get", conditional=True, sync=True))
async def get_profile(request: Request, user: CurrentUser) -> Response:
    version, profile = db.run(lambda conn: profiles.get_profile(conn, user))
    return entity_json(request, profile, version)


@router.patch("/me/profile", response_model=ProfilePublic, **documented("profile.update", 412, etag=True, sync=True))
async def update_profile(request: Request, user: CurrentUser, body: ProfileUpdate,
                         precondition: Precondition) -> Response:
    """Change display name, bio or visibility; public views are invalidated at once.

    With ``If-Match`` (the profile's ETag) or ``If-Unmodified-Since``, a profile changed meanwhile
    is a 412 carrying its current state; without, last write wins."""
    changes = body.changes()
    result = db.run(lambda conn: profiles.update_profile(conn, user, changes, **precondition.as_params()))
    if result.status == "stale":
        if result.conflict is not None:
            after_conflict(user, conflict_notice(result.conflict), result.conflict.get("connections"))
        raise precondition_failed(result)
    if result.change is not None:
        after_write(user, result.change)
    return entity_json(request, result.entity or {}, result.sync_version or 0)


@router.get("/me/stats", response_model=CharacterStats, **documented("profile.stats", conditional=True, sync=True))
async def my_stats(request: Request, user: CurrentUser) -> Response:
    """The character sheet: per-category aggregates, total and character level, radar data."""
    version, rows = db.run(lambda conn: profiles.category_stats(conn, user))
    return private_json(request, build_stats(rows), version)


@router.get("/users/{username}", response_model=PublicProfile, **documented("users.get", conditional=True))
async def public_profile(request: Request, username: str) -> Response:
    """A public profile with its skills and radar data; private and missing profiles are the same 404."""
    body = public_views.profile_body(username)
    if body is None:
        raise NotFoundError("no such profile")
    return respond(request, body.encode(), cache_control=PUBLIC_PROFILE_CACHING)


@router.get("/users/{username}/card.svg", response_class=Response,
            **merged(documented("users.card", conditional=True),
                     {200: {"content": {"image/svg+xml": {}}, "description": "The radar card"}}))
async def card(request: Request, username: str) -> Response:
    """The embeddable SVG radar card of a public profile."""
    body = public_views.card_body(username)
    if body is None:
        raise NotFoundError("no such profile")
    return respond(request, body.encode(), media_type="image/svg+xml", cache_control=CARD_CACHING,
                   headers={"Content-Security-Policy": "default-src 'none'"})


@router.get("/users/{username}/card.png", response_class=Response,
            **merged(documented("users.cardPng", conditional=True),
                     {200: {"content": {"image/png": {}}, "description": "The card as a 1200 x 630 PNG"}}))
async def card_png(request: Request, username: str) -> Response:
    """The card as a 1200 x 630 PNG (Open Graph size) for link previews, drawn from the same SVG."""
    body = public_views.card_png_body(username)
    if body is None:
        raise NotFoundError("no such profile")
    return respond(request, body, media_type="image/png", cache_control=CARD_CACHING)


@router.get("/leaderboard", response_model=Leaderboard, **documented("leaderboard.get", conditional=True))
async def leaderboard(request: Request, category: Category | None = None) -> Response:
    """The top 100 public profiles by total level, or by total level within ``category``."""
    body = public_views.leaderboard_body(category and str(category))
    return respond(request, body.encode(), cache_control=LEADERBOARD_CACHING)


app = create_app(router)
handler = Mangum(app, lifespan="off")
