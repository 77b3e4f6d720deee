"""Rank depth (issue 17) through the real profiles handler on real Postgres and Redis: my rank,
around me, cursor pages past the top 100, the level distribution; privacy and caching.

Expected ranks are computed here from the users' scores by the rule alone (1 + listed users with a
higher score; order score DESC, username), never copied from a response."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest

from functions.profiles.app import handler
from shared.clients import db
from shared.clients.redis import get_redis
from shared.public import cache as public_cache
from shared.repositories import skills as skills_repo
from tests.support.skills import call

ME = "/api/v1/leaderboard/me"
BOARD = "/api/v1/leaderboard"
DISTRIBUTION = "/api/v1/leaderboard/distribution"


def give(user: dict[str, Any], *skills: tuple[str, int]) -> None:
    """Skills (category, level) for a user, written through the skills repository (real triggers)."""
    for i, (category, level) in enumerate(skills):
        skills_repo.create_skill(db.get_conn(), user["id"], name=f"S{i} {uuid.uuid4().hex[:6]}", category=category,
                                 level=level)


def set_privacy(user: dict[str, Any], **settings: str) -> None:
    db.get_conn().execute("UPDATE users SET privacy_settings = privacy_settings || %s::jsonb WHERE id = %s",
                          (json.dumps(settings), user["id"]))
    public_cache.invalidate(user["username"], leaderboards=True)  # what a profile write does after commit


def expected_board(scores: dict[str, int]) -> list[tuple[int, str, int]]:
    """(rank, username, score) of listed users by the rule: order score DESC then username; rank = 1 +
    the number of users with a strictly higher score."""
    order = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(1 + sum(1 for s in scores.values() if s > score), name, score) for name, score in order]


def triples(entries: list[dict[str, Any]]) -> list[tuple[int, str, int]]:
    return [(e["rank"], e["username"], e["score"]) for e in entries]


@pytest.fixture
def league(make_user):
    """Listed players with ties, one private and one opted-out high scorer, one without skills."""
    users = {}
    for name, skills in {
        "ana": [("music", 10), ("art", 2)],   # 12
        "ben": [("music", 6), ("art", 6)],    # 12 (tied with ana; ana first by username)
        "cid": [("music", 9)],                # 9
        "dee": [("art", 9)],                  # 9
        "eve": [("music", 3)],                # 3
        "zed": [("music", 10), ("art", 10)],  # 20 but private
        "hid": [("music", 10), ("art", 9)],   # 19 but opted out
        "nil": [],
    }.items():
        user, headers = make_user(name)
        give(user, *skills)
        users[name] = (user, headers)
    set_privacy(users["zed"][0], profile_visibility="private")
    set_privacy(users["hid"][0], leaderboard="hidden")
    return users


LISTED_OVERALL = {"ana": 12, "ben": 12, "cid": 9, "dee": 9, "eve": 3}
LISTED_MUSIC = {"ana": 10, "ben": 6, "cid": 9, "eve": 3}


def test_my_rank_overall_and_per_category_with_ties(league, sql_counter):
    board = {name: rank for rank, name, _ in expected_board(LISTED_OVERALL)}
    music = {name: rank for rank, name, _ in expected_board(LISTED_MUSIC)}
    assert board == {"ana": 1, "ben": 1, "cid": 3, "dee": 3, "eve": 5} and music["cid"] == 2
    for name in LISTED_OVERALL:
        sql_counter.reset()
        response = call(handler, "GET", ME, league[name][1])
        assert response.status == 200 and sql_counter.count == 1, response
        assert response.headers["cache-control"] == "private, no-cache" and "x-sync-version" in response.headers
        body = response.json
        assert body["listed"] is True
        assert body["overall"] == {"category": None, "rank": board[name], "score": LISTED_OVERALL[name],
                                   "skill_count": body["overall"]["skill_count"], "unranked_reason": None}
        assert body["character_level"] == 1 + math.isqrt(LISTED_OVERALL[name])
        by_category = {c["category"]: c for c in body["categories"]}
        assert len(body["categories"]) == 10
        assert by_category["music"]["rank"] == music.get(name)
        assert by_category["music"]["unranked_reason"] == (None if name in music else "no_skills")
        assert by_category["mind"] == {"category": "mind", "rank": None, "score": 0, "skill_count": 0,
                                       "unranked_reason": "no_skills"}
    # The ranks agree with the board's own rank column.
    top = call(handler, "GET", BOARD).json["entries"]
    assert triples(top) == expected_board(LISTED_OVERALL)


def test_private_opted_out_and_skill_less_users_get_a_reason_never_a_rank(league):
    zed = call(handler, "GET", ME, league["zed"][1]).json
    assert zed["listed"] is False and zed["overall"]["rank"] is None and zed["overall"]["score"] == 20
    assert {c["unranked_reason"] for c in [zed["overall"], *zed["categories"]]} == {"private"}
    hid = call(handler, "GET", ME, league["hid"][1]).json
    assert hid["overall"] == {"category": None, "rank": None, "score": 19, "skill_count": 2,
                              "unranked_reason": "hidden"}
    nil = call(handler, "GET", ME, league["nil"][1]).json
    assert nil["listed"] is True and nil["overall"]["unranked_reason"] == "no_skills"
    # The two high scorers push nobody down: ana and ben are still first.
    assert call(handler, "GET", ME, league["ana"][1]).json["overall"]["rank"] == 1
    for name, reason in (("zed", "private"), ("hid", "hidden"), ("nil", "no_skills")):
        around = call(handler, "GET", BOARD, league[name][1], query={"around": "me"}).json
        assert around["entries"] == [] and around["unranked_reason"] == reason
        others = call(handler, "GET", BOARD, league["ana"][1], query={"around": "me"}).json["entries"]
        assert name not in [e["username"] for e in others]


def test_around_me_is_five_above_and_five_below_in_board_order_at_both_edges(make_user):
    scores = {}
    for i in range(15):
        user, _ = make_user(f"p{i:02d}")
        levels = [10] * (i // 4) + ([i % 10 + 1] if i % 3 else [4])  # ties: several scores repeat
        give(user, *[("fitness", level) for level in levels])
        scores[user["username"]] = sum(levels)
    board = expected_board(scores)
    assert len({s for _, _, s in board}) < len(board)  # there are ties
    for index, (_, name, _) in enumerate(board):
        user_headers = _token_for(name)
        for category in (None, "fitness"):
            query = {"around": "me", **({"category": category} if category else {})}
            response = call(handler, "GET", BOARD, user_headers, query=query)
            assert response.status == 200, response
            assert response.headers["cache-control"] == "private, no-cache"
            assert response.headers["vary"] == "Authorization"
            body = response.json
            assert body["category"] == category and body["next_cursor"] is None and body["unranked_reason"] is None
            assert triples(body["entries"]) == board[max(0, index - 5):index + 6], (name, category)
    assert len(call(handler, "GET", BOARD, _token_for(board[0][1]), query={"around": "me"}).json["entries"]) == 6
    assert len(call(handler, "GET", BOARD, _token_for(board[-1][1]), query={"around": "me"}).json["entries"]) == 6


def _token_for(username: str) -> dict[str, str]:
    from shared.identity.tokens import issue_access_token

    row = db.get_conn().execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()
    return {"authorization": f"Bearer {issue_access_token(row['id'])[0]}"}


def test_around_me_needs_a_token_and_follows_the_token_not_any_cache(league, make_user):
    for i in range(8):  # enough players that ana's and eve's windows differ
        give(make_user(f"xx{i}")[0], ("craft", 3 + i))
    assert call(handler, "GET", BOARD, query={"around": "me"}).status == 401
    assert call(handler, "GET", BOARD, {"authorization": "Bearer nope"}, query={"around": "me"}).status == 401
    assert call(handler, "GET", BOARD, {"authorization": "Bearer nope"}).status == 200  # the public board ignores it
    assert call(handler, "GET", ME).status == 401
    ana = call(handler, "GET", BOARD, league["ana"][1], query={"around": "me"})
    eve = call(handler, "GET", BOARD, league["eve"][1], query={"around": "me"})
    assert ana.json != eve.json and ana.headers["etag"] != eve.headers["etag"]
    assert ana.json["entries"][0]["username"] == "ana" and eve.json["entries"][5]["username"] == "eve"
    # eve's answer is eve's even when she sends ana's ETag (no cross-user 304).
    again = call(handler, "GET", BOARD, {**league["eve"][1], "if-none-match": ana.headers["etag"]},
                 query={"around": "me"})
    assert again.status == 200 and again.json == eve.json
    assert call(handler, "GET", ME, league["eve"][1]).json["overall"]["score"] == 3
    assert call(handler, "GET", ME, league["ana"][1]).json["overall"]["score"] == 12
    response = call(handler, "GET", BOARD, league["ana"][1], query={"around": "me", "cursor": "x"})
    assert response.status == 422 and response.json["error"]["details"][0]["field"] == "query.around"
    assert call(handler, "GET", BOARD, league["ana"][1], query={"around": "you"}).status == 422


def test_a_gone_account_is_401(league):
    db.get_conn().execute("DELETE FROM users WHERE id = %s", (league["ana"][0]["id"],))
    assert call(handler, "GET", ME, league["ana"][1]).status == 401
    assert call(handler, "GET", BOARD, league["ana"][1], query={"around": "me"}).status == 401


# --- cursor pages past the top 100 ------------------------------------------------------------------

def listed_scores(category: str | None) -> dict[str, int]:
    """Every listed user's score on a board, computed from the skills (not from skill_scores)."""
    rows = db.get_conn().execute(
        """SELECT u.username, sum(s.level)::int AS score FROM skills s JOIN users u ON u.id = s.owner_id
           WHERE u.privacy_settings->>'profile_visibility' = 'public'
             AND coalesce(u.privacy_settings->>'leaderboard', 'listed') <> 'hidden'
             AND (%(c)s::text IS NULL OR s.category = %(c)s)
           GROUP BY u.username""", {"c": category}).fetchall()
    return {r["username"]: r["score"] for r in rows}


def walk(category: str | None, between_pages=None) -> tuple[list[dict[str, Any]], int]:
    query = {"category": category} if category else {}
    response = call(handler, "GET", BOARD, query=query)
    entries, pages = list(response.json["entries"]), 1
    cursor = response.json["next_cursor"]
    while cursor:
        if between_pages:
            between_pages(pages)
        response = call(handler, "GET", BOARD, query={**query, "cursor": cursor})
        assert response.status == 200, response
        assert response.headers["cache-control"] == f"public, max-age={public_cache.LEADERBOARD_TTL_S}"
        assert len(response.json["entries"]) <= 100
        entries += response.json["entries"]
        cursor, pages = response.json["next_cursor"], pages + 1
    return entries, pages


@pytest.fixture
def crowd():
    from bench.scale_seed import seed

    seed(db.get_conn(), 320)  # ~290 listed users, scores with many ties, 10% private


@pytest.mark.parametrize("category", [None, "music"])
def test_cursor_pages_cover_the_board_exactly_once_with_board_wide_ranks(crowd, category):
    scores = listed_scores(category)
    set_privacy({"id": db.get_conn().execute("SELECT id FROM users WHERE username = 'user_5'").fetchone()["id"],
                 "username": "user_5"}, leaderboard="hidden")
    scores.pop("user_5", None)
    entries, pages = walk(category)
    assert pages == math.ceil(len(scores) / 100) and len(scores) > 100
    assert triples(entries) == expected_board(scores)
    assert entries[0]["character_level"] >= 1 and "user_3" not in scores  # user_3 is private in the seed


def test_cursor_pages_under_concurrent_score_changes(crowd):
    """Changes made while a client walks the board: keyset pages never repeat a row whose key does not
    cross the cursor, nor skip one; users whose key moves within the unread part appear once, with
    the score the later page read."""
    first = call(handler, "GET", BOARD).json
    cursor_score = first["entries"][-1]["score"]
    conn = db.get_conn()
    changed: dict[str, int] = {}

    def change(page: int) -> None:
        if page != 1:
            return
        # Below the cursor: two users swap places far down the board (both stay below it).
        for row in conn.execute(
                "SELECT owner_id, username, score FROM skill_scores WHERE category = '' AND public AND score < %s"
                " ORDER BY score DESC, username OFFSET 40 LIMIT 2", (cursor_score - 3,)).fetchall():
            skills_repo.create_skill(conn, row["owner_id"], name="Extra", category="mind", level=2)
            changed[row["username"]] = row["score"] + 2
        # Above the cursor: the leader gains (stays above); a new listed user joins below it.
        leader = conn.execute("SELECT owner_id FROM skill_scores WHERE category = '' AND public"
                              " ORDER BY score DESC, username LIMIT 1").fetchone()
        skills_repo.create_skill(conn, leader["owner_id"], name="Extra", category="mind", level=9)
        from shared.repositories.users import create_user
        newcomer = create_user(conn, username="newcomer", email="n@example.com", password_hash="x", display_name="N")
        skills_repo.create_skill(conn, newcomer["id"], name="One", category="art", level=1)

    entries, _ = walk(None, change)
    names = [e["username"] for e in entries]
    assert len(names) == len(set(names))  # no duplicates
    assert set(names) == set(listed_scores(None))  # nobody skipped (the leader's gain was on page 1)
    scores = {e["username"]: e["score"] for e in entries}
    assert changed and all(scores[name] == score for name, score in changed.items())
    assert scores["newcomer"] == 1


@pytest.mark.parametrize("cursor", ["garbage", "WyJib2FyZDphbGwiLDEsIngiXQ",  # ["board:all",1,"x"]: bad name
                                    "WyJib2FyZDphbGwiLDk5OTk5OTk5OTk5LCJhYmMiXQ",  # score out of range
                                    "WyJib2FyZDptdXNpYyIsMSwiYWJjIl0"])  # a music cursor on the overall board
def test_doctored_cursors_are_422(cursor):
    response = call(handler, "GET", BOARD, query={"cursor": cursor})
    assert response.status == 422, response
    assert response.json["error"]["details"][0]["field"] == "query.cursor"


# --- distribution -------------------------------------------------------------------------------------

def test_distribution_counts_listed_users_per_level_and_suppresses_small_buckets(make_user, sql_counter):
    tokens = {}
    for i in range(14):
        user, tokens[i] = make_user(f"d{i:02d}")
        level = 4 if i < 7 else 9  # totals 4 → level 3; 9 → level 4
        level = 1 if i == 13 else level  # one alone at level 2
        give(user, ("life", level))
    private, _ = make_user("hush")
    give(private, ("life", 1))
    set_privacy(private, profile_visibility="private")
    sql_counter.reset()
    response = call(handler, "GET", DISTRIBUTION)
    assert response.status == 200 and sql_counter.count == 1
    assert response.headers["cache-control"] == f"public, max-age={public_cache.LEADERBOARD_TTL_S}"
    assert response.json == {"min_bucket": 5, "levels": [{"character_level": 2, "users": None},
                                                         {"character_level": 3, "users": 7},
                                                         {"character_level": 4, "users": 6}]}
    sql_counter.reset()
    assert call(handler, "GET", DISTRIBUTION).json == response.json and sql_counter.count == 0  # cached
    assert 0 < get_redis().ttl(public_cache.distribution_key()) <= public_cache.LEADERBOARD_TTL_S
    # Opting out (the real PATCH) leaves the counts at once: the profile write drops the distribution
    # with the boards. Going private likewise.
    opt_out = call(handler, "PATCH", "/api/v1/me/profile", tokens[0], {"privacy_settings": {"leaderboard": "hidden"}})
    assert opt_out.status == 200, opt_out
    assert call(handler, "GET", DISTRIBUTION).json["levels"][1] == {"character_level": 3, "users": 6}
    hide = call(handler, "PATCH", "/api/v1/me/profile", tokens[1], {"privacy_settings": {"profile_visibility":
                                                                                          "private"}})
    assert hide.status == 200, hide
    assert call(handler, "GET", DISTRIBUTION).json["levels"][1] == {"character_level": 3, "users": 5}


def test_uncached_rank_reads_are_throttled_per_ip_the_cached_board_is_not(league, monkeypatch):
    from shared.clients.registry import reset_all

    monkeypatch.setenv("RANK_REQUESTS_PER_MIN", "3")
    reset_all()
    ana = league["ana"][1]
    cursor = "WyJib2FyZDphbGwiLDEsImFiYyJd"  # ["board:all",1,"abc"]
    statuses = [call(handler, "GET", ME, ana).status,
                call(handler, "GET", BOARD, ana, query={"around": "me"}).status,
                call(handler, "GET", BOARD, query={"cursor": cursor}).status,
                call(handler, "GET", ME, ana).status]
    assert statuses == [200, 200, 200, 429]
    limited = call(handler, "GET", BOARD, ana, query={"around": "me"})
    assert limited.status == 429 and limited.json["error"]["code"] == "rate_limited"
    assert call(handler, "GET", BOARD).status == 200 and call(handler, "GET", DISTRIBUTION).status == 200
