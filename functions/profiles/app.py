"""Profiles function: my profile and character sheet (now and in the past), public profiles, their
card (SVG and PNG), people search, the leaderboard.

The public routes (``/users/…``, ``/leaderboard``) are anonymous by design: they answer the same for
everyone (privacy → 404 for all, owner included), which is what makes them cacheable in Redis and
by browsers and CDNs; search results alone are never cached. The ``/me`` routes carry the caller's
``X-Sync-Version``. Rank depth (issue 17): ``/leaderboard/me`` and ``/leaderboard?around=me`` are the
caller's own (a token, private caching); board pages past the top 100 (``?cursor=``) and the level
distribution are public like the board.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Query, Request, Response
from mangum import Mangum

from shared.clients import db
from shared.core.errors import NotFoundError, SessionRevokedError, UnauthorizedError, ValidationFailedError
from shared.core.headers import PRIVATE
from shared.core.i18n import N_
from shared.core.observability import observed
from shared.core.settings import get_settings
from shared.http.app import api_router, create_app
from shared.http.auth import BearerIfSent, CurrentUser, RankClientIp, SearchClientIp, client_ip, user_of
from shared.http.errors import language_headers
from shared.http.openapi import documented, merged
from shared.http.preconditions import Precondition, entity_json, precondition_failed
from shared.http.responses import no_store_json, private_json, respond
from shared.identity import ratelimit
from shared.models.achievements import MyAchievements
from shared.models.categories import Category
from shared.models.growth import GrowthSeries
from shared.models.people import PeoplePage
from shared.models.profiles import (
    CharacterStats,
    Leaderboard,
    LevelDistribution,
    MyRank,
    ProfilePublic,
    ProfileUpdate,
    PublicProfile,
)
from shared.public import achievements as public_achievements
from shared.public import cache as public_cache
from shared.public import growth, privacy
from shared.public import ranks as public_ranks
from shared.public import views as public_views
from shared.public.character import build_stats
from shared.repositories import achievements, history, profiles, search
from shared.sync.notify import after_conflict, after_write, conflict_notice

router = api_router(tags=["profiles"])
SearchQuery = Annotated[str, Query(min_length=2, max_length=50, pattern=r"^[^\x00]*\S[^\x00]*$",
                                   description="Username or display name, or a part of one (2..50 characters).")]
SearchLimit = Annotated[int, Query(ge=1, le=50, description="Page size, 1..50.")]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page.")]
Around = Annotated[Literal["me"] | None, Query(description="me: the five entries above and below you (needs a token)")]
StatsDate = Annotated[date, Query(ge=date(2000, 1, 1), le=date(2999, 12, 31), description="A date (YYYY-MM-DD).")]
MAX_SERIES_WEEKS = 156
PUBLIC_PROFILE_CACHING = "public, no-cache"  # always revalidate: a 304 from Redis is cheap
CARD_CACHING = (f"public, max-age={public_cache.CARD_TTL_S}, "
                f"stale-while-revalidate={privacy.CARD_STALE_WHILE_REVALIDATE_S}")  # a hidden card: gone in 6 min
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
    if privacy.hides(changes):  # its public copies go first, or the change is refused (503)
        privacy.drop_before_hiding(user, changes)
    result = db.run(lambda conn: profiles.update_profile(conn, user, changes, **precondition.as_params()))
    if result.status == "revoked":
        raise SessionRevokedError()
    if result.status == "stale":
        if result.conflict is not None:
            after_conflict(user, conflict_notice(result.conflict), result.conflict.get("connections"))
        raise precondition_failed(result)
    if result.change is not None:
        after_write(user, result.change)
    return entity_json(request, result.entity or {}, result.sync_version or 0)


@router.get("/me/achievements", response_model=MyAchievements,
            **documented("achievements.list", conditional=True, sync=True))
async def my_achievements(request: Request, user: CurrentUser) -> Response:
    """My awards (newest first, with ``awarded_at``) and the whole catalogue with each entry's rarity
    (the share of all users holding it, from the daily maintenance run)."""
    min_holders = get_settings().achievement_rarity_min_holders
    row = db.run(lambda conn: achievements.mine(conn, user, min_holders=min_holders))
    if row is None:
        raise UnauthorizedError("the account behind this token no longer exists")
    return private_json(request, public_achievements.my_achievements(row), row["sync_version"],
                        headers=language_headers())  # names and descriptions in the caller's language


@router.get("/me/stats", response_model=CharacterStats, **documented("profile.stats", conditional=True, sync=True))
async def my_stats(request: Request, user: CurrentUser, at: StatsDate | None = None) -> Response:
    """The character sheet: per-category aggregates, total and character level, radar data; with
    ``at``, the sheet as it stood at the end of that day (the user's timezone), from the level history."""
    if at is not None:
        version, head, changes = db.run(lambda conn: history.level_history(conn, user, at, at, weekly=False))
        return private_json(request, growth.stats_at(changes, head["ends"][0]), version)
    version, rows = db.run(lambda conn: profiles.category_stats(conn, user))
    return private_json(request, build_stats(rows), version)


@router.get("/me/stats/series", response_model=GrowthSeries,
            **documented("profile.statsSeries", conditional=True, sync=True))
async def my_stats_series(request: Request, user: CurrentUser, first: Annotated[StatsDate, Query(alias="from")],
                          last: Annotated[StatsDate, Query(alias="to")]) -> Response:
    """Total level per category at the end of each week (Monday to Sunday, the user's timezone) from
    the week of ``from`` to the week of ``to``, at most 156 weeks, from the level history."""
    weeks = ((last - timedelta(days=last.weekday())) - (first - timedelta(days=first.weekday()))).days // 7 + 1
    if last < first or weeks > MAX_SERIES_WEEKS:
        field, reason = ("query.to", N_("must not be before from")) if last < first else (
            "query.from", N_("the range may span at most 156 weeks"))
        raise ValidationFailedError("invalid input: {field} {reason}", params={"field": field, "reason": reason},
                                    details=[{"field": field, "message": reason, "type": "range"}])
    version, head, changes = db.run(lambda conn: history.level_history(conn, user, first, last, weekly=True))
    series = {"timezone": head["timezone"], "weeks": growth.weekly_series(changes, head["days"], head["ends"])}
    return private_json(request, series, version)


@router.get("/users/{username}", response_model=PublicProfile, **documented("users.get", conditional=True))
async def public_profile(request: Request, username: str) -> Response:
    """A public profile with its skills and radar data; private and missing profiles are the same 404."""
    body = public_views.profile_body(username)
    if body is None:
        raise NotFoundError("no such profile")
    return respond(request, body.encode(), cache_control=PUBLIC_PROFILE_CACHING)


# The card loads nothing: no script, style, font or URL; only the avatar it embeds as a data: image (issue 17).
CARD_CSP = "default-src 'none'; img-src data:"


@router.get("/users/{username}/card.svg", response_class=Response,
            **merged(documented("users.card", conditional=True),
                     {200: {"content": {"image/svg+xml": {}}, "description": "The radar card"}}))
async def card(request: Request, username: str) -> Response:
    """The embeddable SVG radar card of a public profile."""
    body = public_views.card_body(username)
    if body is None:
        raise NotFoundError("no such profile")
    return respond(request, body.encode(), media_type="image/svg+xml", cache_control=CARD_CACHING,
                   headers={"Content-Security-Policy": CARD_CSP})


@router.get("/users/{username}/card.png", response_class=Response,
            **merged(documented("users.cardPng", conditional=True),
                     {200: {"content": {"image/png": {}}, "description": "The card as a 1200 x 630 PNG"}}))
async def card_png(request: Request, username: str) -> Response:
    """The card as a 1200 x 630 PNG (Open Graph size) for link previews, drawn from the same SVG."""
    body = public_views.card_png_body(username)
    if body is None:
        raise NotFoundError("no such profile")
    return respond(request, body, media_type="image/png", cache_control=CARD_CACHING)


@router.get("/users", response_model=PeoplePage, **documented("users.search"))
async def find_people(_ip: SearchClientIp, q: SearchQuery, limit: SearchLimit = 20, cursor: Cursor = None) -> Response:
    """Public profiles whose username or display name starts with ``q`` (first) or is trigram-similar
    to it; private profiles never appear. Throttled per IP; never stored by any cache (a profile
    made private leaves the results at once)."""
    result = db.run(lambda conn: search.search(conn, q, limit=limit, cursor=cursor))
    return no_store_json(result)


@router.get("/leaderboard", response_model=Leaderboard, **documented("leaderboard.get", conditional=True))
async def leaderboard(request: Request, token: BearerIfSent, category: Category | None = None,
                      cursor: Cursor = None, around: Around = None) -> Response:
    """The top 100 listed profiles (public, not opted out) by total level, or by total level within
    ``category``; ``next_cursor`` pages on, 100 at a time. ``around=me`` (needs a token): the five
    entries above the caller, the caller and the five below, or no entries and ``unranked_reason``."""
    board = category and str(category)
    if around is not None:
        if cursor is not None:
            raise ValidationFailedError("invalid input: query.around cannot be combined with a cursor", details=[
                {"field": "query.around", "message": N_("cannot be combined with cursor"), "type": "exclusive"}])
        user = await user_of(token)
        ratelimit.throttle_rank_ip(client_ip(request))
        return respond(request, public_ranks.around_me(user, board), cache_control=PRIVATE)
    if cursor is not None:
        ratelimit.throttle_rank_ip(client_ip(request))
        return respond(request, public_ranks.board_page(board, cursor), cache_control=LEADERBOARD_CACHING)
    body = public_views.leaderboard_body(board)
    return respond(request, body.encode(), cache_control=LEADERBOARD_CACHING)


@router.get("/leaderboard/me", response_model=MyRank, **documented("leaderboard.me", conditional=True, sync=True))
async def my_rank(request: Request, user: CurrentUser, _ip: RankClientIp) -> Response:
    """My rank and score overall and in every category. Rank = 1 + the listed users with a higher
    score (ties share a rank, as on the board); null, with ``unranked_reason``, when my profile is
    private, I opted out of the leaderboards, or I have no score on that board."""
    version, body = public_ranks.my_rank(user)
    return private_json(request, body, version)


@router.get("/leaderboard/distribution", response_model=LevelDistribution,
            **documented("leaderboard.distribution", conditional=True))
async def distribution(request: Request) -> Response:
    """Listed users (public, not opted out, with at least one skill) per character level; a level
    with fewer than ``min_bucket`` (5) users reports null, so no count singles anyone out."""
    return respond(request, public_ranks.distribution_body().encode(), cache_control=LEADERBOARD_CACHING)


app = create_app(router)
handler = observed(Mangum(app, lifespan="off"))  # ColdStart, and metrics flushed once per invocation
