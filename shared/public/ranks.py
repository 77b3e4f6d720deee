"""Rank depth (issue 17): board pages past the top 100, my rank, the window around me and the
character-level distribution, built on ``shared.repositories.ranks``.

Privacy: every number here comes from the board index, which holds listed users only (public and
not opted out), and every entry shown is re-tested against ``users``; a private or opted-out user
is in no rank, window, page or distribution count, including their own rank (``unranked_reason``
says why, never a made-up rank).

Caching, as for the top-100 board (``shared.public.views``): the distribution is one Redis key among
the leaderboard keys, so a profile write (visibility, opt-out) drops it with the boards. Cursor pages
are NOT kept in Redis (their keys are unbounded and could not all be dropped when a profile is
hidden): they are built per request and carry the board's short public ``max-age``. My rank and my
window depend on the caller: private responses, never shared.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.clients import db
from shared.core.encoding import json_bytes
from shared.core.errors import UnauthorizedError
from shared.public import cache as public_cache
from shared.public import flight
from shared.public.character import character_level
from shared.repositories import cursors
from shared.repositories import ranks as repo
from shared.repositories.sql import Row

PAGE_SIZE = 100  # as the top board (shared.public.views.LEADERBOARD_SIZE)
MIN_BUCKET = 5  # distribution counts below this are suppressed (k-anonymity of a bucket)
MAX_SCORE = 2**31 - 1  # skill_scores.score is an integer


def cursor_sort(category: str | None) -> str:
    """The sort name inside a board's cursors: a cursor of one board is refused on another."""
    return f"board:{category or 'all'}"


def next_cursor(category: str | None, rows: list[Row], size: int) -> str | None:
    """The cursor after the ``size``-th row when ``rows`` (fetched with one extra) has more."""
    if len(rows) <= size:
        return None
    last = rows[size - 1]
    return cursors.encode_cursor(cursor_sort(category), last["score"], last["username"])


def entry(row: Row) -> dict[str, Any]:
    """A board entry (the shape of ``LeaderboardEntry``)."""
    keys = ("rank", "username", "display_name", "avatar_url", "avatar_urls", "score", "skill_count", "total_level")
    return {**{k: row[k] for k in keys}, "character_level": character_level(row["total_level"])}


def _score(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SCORE:
        raise ValueError("not a score")
    return value


def _username(value: str) -> str:
    from shared.public.views import USERNAME

    if not USERNAME.fullmatch(value):
        raise ValueError("not a username")
    return value


def board_page(category: str | None, cursor: str) -> bytes:
    """The page of a board after ``cursor`` (a ``next_cursor``): PAGE_SIZE entries with board-wide
    ranks. A doctored cursor is a 422 (``query.cursor``)."""
    after = cursors.decode_cursor(cursor, cursor_sort(category), _score, _username)
    rows = db.run(lambda conn: repo.board_page(conn, category, after, PAGE_SIZE + 1))
    return json_bytes({"category": category, "entries": [entry(r) for r in rows[:PAGE_SIZE]],
                       "next_cursor": next_cursor(category, rows, PAGE_SIZE), "unranked_reason": None})


def _reason(settings: dict[str, Any], listed: bool) -> str | None:
    """Why a user is on no board at all (None when listed)."""
    if listed:
        return None
    return "private" if (settings or {}).get("profile_visibility") != "public" else "hidden"


def around_me(user_id: uuid.UUID, category: str | None) -> bytes:
    """The five entries above me, me and the five below on a board; when I am not on it, no
    entries and the reason. One statement, and one more only when I am not on the board."""
    rows = db.run(lambda conn: repo.around(conn, user_id, category))
    reason = None
    if not rows:
        me = db.run(lambda conn: repo.listed(conn, user_id))
        if me is None:
            raise UnauthorizedError("the account behind this token no longer exists")
        reason = _reason(me["privacy_settings"], bool(me["listed"])) or "no_skills"
    return json_bytes({"category": category, "entries": [entry(r) for r in rows], "next_cursor": None,
                       "unranked_reason": reason})


def my_rank(user_id: uuid.UUID) -> tuple[int, dict[str, Any]]:
    """``(sync_version, the MyRank document)`` (``shared.models.profiles.MyRank``): one statement."""
    from shared.models.categories import CATEGORIES

    rows = db.run(lambda conn: repo.my_ranks(conn, user_id))
    if not rows:
        raise UnauthorizedError("the account behind this token no longer exists")
    head = rows[0]
    listed = bool(head["listed"])
    found = {r["category"]: r for r in rows if r["category"] is not None}

    def board(category: str) -> dict[str, Any]:
        row = found.get(category) or {}
        rank = row.get("rank")
        reason = None if rank is not None else (_reason(head["privacy_settings"], listed) or "no_skills")
        return {"category": category or None, "rank": rank, "score": int(row.get("score") or 0),
                "skill_count": int(row.get("skill_count") or 0), "unranked_reason": reason}

    overall = board("")
    return int(head["sync_version"]), {"listed": listed, "character_level": character_level(overall["score"]),
                                       "overall": overall, "categories": [board(c) for c in CATEGORIES]}


def _build_distribution() -> str:
    rows = db.run(repo.distribution)
    levels = [{"character_level": r["character_level"], "users": r["users"] if r["users"] >= MIN_BUCKET else None}
              for r in rows]
    return json_bytes({"min_bucket": MIN_BUCKET, "levels": levels}).decode()


def distribution_body() -> str:
    """Listed users per character level, small buckets suppressed; cached like a board."""
    body = flight.cached(public_cache.distribution_key(), public_cache.LEADERBOARD_TTL_S, _build_distribution)
    assert body is not None
    return body
