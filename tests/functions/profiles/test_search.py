"""GET /users?q= through the profiles function's real handler (issue 17): public profiles only,
prefix then fuzzy, keyset pages, per-IP throttling, and the indexes that serve it."""

from __future__ import annotations

import pytest

from functions.profiles.app import handler
from shared.repositories import search
from shared.repositories.cursors import encode_cursor
from tests.support.skills import call


def find(q, **query):
    return call(handler, "GET", "/api/v1/users", query={"q": q, **query})


def names(response):
    assert response.status == 200, response
    return [item["username"] for item in response.json["items"]]


def make_private(headers):
    response = call(handler, "PATCH", "/api/v1/me/profile", headers,
                    {"privacy_settings": {"profile_visibility": "private"}})
    assert response.status == 200, response


@pytest.fixture
def people(make_user):
    made = {}
    for username, display in [("alice", "Alice Smith"), ("alicia", "Alicia Keys"), ("malice", "Mal Ice"),
                              ("bob_smith", "Robert"), ("carol", "Carol Alison"), ("dave", "Dave")]:
        made[username] = make_user(username, display_name=display)
    return made


def test_prefix_matches_come_first_then_fuzzy_ones(people):
    response = find("ali")
    assert response.headers["cache-control"] == "no-store"
    items = response.json["items"]
    prefix = [i["username"] for i in items if i["match"] == "prefix"]
    assert prefix == ["alice", "alicia"]  # username or display name starts with "ali" (case-insensitive)
    assert items[:2] == [i for i in items if i["match"] == "prefix"] and {i["score"] for i in items[:2]} == {2}
    fuzzy = [i for i in items if i["match"] == "fuzzy"]
    assert [i["username"] for i in fuzzy] == ["carol"]  # "Carol Alison": the query's trigrams, in a word
    alice = find("alice").json["items"]
    assert [(i["username"], i["match"]) for i in alice] == [("alice", "prefix"), ("alicia", "fuzzy"),
                                                            ("malice", "fuzzy")]  # a tie: by username
    assert 0.6 <= alice[1]["score"] == alice[2]["score"] < 1
    assert "dave" not in names(response)
    assert set(items[0]) == {"username", "display_name", "avatar_url", "avatar_urls", "match", "score", "total_level"}


def test_display_names_are_searched_by_prefix_and_by_word(people):
    assert names(find("Rob"))[0] == "bob_smith"  # display name "Robert"
    smith = find("smith").json["items"]
    assert {i["username"] for i in smith} >= {"alice", "bob_smith"}  # a word of the display name, a username part


def test_typos_still_find_people(people):
    assert "alicia" in names(find("alcia"))
    assert "carol" in names(find("karol"))


def test_private_profiles_are_in_no_result(people):
    _, alice_headers = people["alice"]
    assert "alice" in names(find("alice"))
    make_private(alice_headers)
    for q in ("alice", "ali", "smith", "Alice Smith", "alcie"):
        for caller in (None, alice_headers):
            assert "alice" not in names(call(handler, "GET", "/api/v1/users", caller, query={"q": q}))


def test_keyset_pages_cover_every_match_once(people, make_user):
    for n in range(7):
        make_user(f"alina{n}", display_name=f"Alina {n}")
    seen, cursor, pages = [], None, 0
    while True:
        response = find("ali", limit=3, **({"cursor": cursor} if cursor else {}))
        batch = names(response)
        assert len(batch) <= 3
        seen += batch
        pages += 1
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
        make_user(f"zz_new_{pages}", display_name="Alien")  # a newcomer mid-paging moves nothing
    assert len(seen) == len(set(seen)) and pages >= 4
    assert set(seen) >= {"alice", "alicia", *(f"alina{n}" for n in range(7))}
    other_query = find("smith", limit=1).json["next_cursor"]
    assert other_query is not None
    wrong = find("ali", cursor=other_query)  # a cursor is good only for the query that issued it
    assert wrong.status == 422 and wrong.json["error"]["details"][0]["field"] == "query.cursor"
    assert "another sort" in wrong.json["error"]["details"][0]["message"]


def doctored(q, rank, username="alice"):
    return encode_cursor(search.sort_name(q), rank, username)


@pytest.mark.parametrize("query", [{"q": "a"}, {"q": "x" * 51}, {"q": "   "}, {}, {"q": "ab", "limit": 51},
                                   {"q": "ab", "cursor": "not-a-cursor"},
                                   *({"q": "ab", "cursor": doctored("ab", rank)} for rank in
                                     ("NaN", "sNaN", "Infinity", "-1", "3", "1e999", "x", None, [1])),
                                   {"q": "ab", "cursor": doctored("ab", "1", "x" * 31)}])
def test_bad_queries_are_422(query):
    response = call(handler, "GET", "/api/v1/users", query=query)
    assert response.status == 422 and response.json["error"]["code"] == "validation_error"


def test_like_wildcards_in_the_query_are_literal(people, make_user):
    make_user("under_score", display_name="U")
    assert names(find("__")) == [] and names(find("%%")) == []  # unescaped, both would match everyone
    matches = {i["username"]: i["match"] for i in find("unde_").json["items"]}
    assert matches == {"under_score": "fuzzy"}  # "_" is no wildcard: no prefix match, only the trigrams
    assert search.like_prefix("a_b%c\\") == "a\\_b\\%c\\\\%"


def test_search_is_throttled_per_ip(people, monkeypatch):
    from shared.clients.registry import reset_all

    monkeypatch.setenv("SEARCH_REQUESTS_PER_MIN", "3")
    reset_all()
    statuses = [find("alice").status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = find("alice")
    assert limited.json["error"]["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1


def test_search_fails_open_when_redis_is_down(people, stack):
    from shared.clients.registry import reset_all

    stack.stop_bridge()
    try:
        reset_all()
        assert "alice" in names(find("alice"))
    finally:
        stack.start_bridge()
        reset_all()


def plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def test_the_search_reads_the_indexes_not_the_table(people):
    """EXPLAIN of the real statement over 5000 public users (ANALYZEd), with the planner left free
    (enable_seqscan on): every path into users is one of migration 014's partial indexes."""
    import json

    from shared.clients import db

    conn = db.get_conn()
    conn.execute("""
        INSERT INTO users (username, email, password_hash, display_name)
        SELECT 'u' || g || '_' || substr(md5(g::text), 1, 6), 'u' || g || '@example.com', 'x',
               initcap(substr(md5(g::text), 1, 8)) || ' ' || initcap(substr(md5((g * 7)::text), 1, 9))
        FROM generate_series(1, 5000) AS g""")
    conn.execute("ANALYZE users")
    for q in ("alice", "smith", "ab", "u123"):
        params = {"q": q, "pattern": search.like_prefix(q), "after_rank": None, "after_username": None,
                  "limit": 21}
        plan = conn.execute("EXPLAIN (FORMAT JSON) " + search.SEARCH, params).fetchone()
        text = json.dumps(plan)
        assert "Seq Scan" not in text, (q, text)
        scans = {node["Index Name"]: node.get("Index Cond") for node in plan_nodes(plan["QUERY PLAN"][0]["Plan"])
                 if node["Node Type"] == "Bitmap Index Scan" and node["Index Name"].startswith("users_")}
        assert set(scans) == {"users_search_username_prefix_idx", "users_search_display_prefix_idx",
                              "users_search_username_trgm_idx", "users_search_display_trgm_idx"}, (q, text)
        assert all(scans.values()), (q, scans)  # each probed with a condition, none read whole
    assert "u123_" + __import__("hashlib").md5(b"123").hexdigest()[:6] in names(find("u123"))
