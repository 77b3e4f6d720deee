"""The profiles function through its real handler: my profile and stats, public views, caching."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from functions.profiles.app import handler
from functions.skills.app import handler as skills_handler
from shared.clients.redis import get_redis
from shared.public import cache as public_cache
from tests.support import http_event, invoke
from tests.support.skills import call, db_one, from_event, snapshot, sync_version


def add(headers, name, category, level):
    response = call(skills_handler, "POST", "/api/v1/skills", headers, {"name": name, "category": category,
                                                                         "level": level})
    assert response.status == 201, response
    return response.json


def make_private(headers):
    response = call(handler, "PATCH", "/api/v1/me/profile", headers, {"privacy_settings": {"profile_visibility":
                                                                                           "private"}})
    assert response.status == 200, response


@pytest.fixture
def alice(make_user):
    user, headers = make_user("alice", display_name="Alice")
    add(headers, "Python", "programming", 7)
    add(headers, "SQL", "programming", 5)
    add(headers, "Guitar", "music", 4)
    return user, headers


# --- my profile ----------------------------------------------------------------------------------

def test_my_profile_read_and_update_in_one_statement_each(alice, sql_counter):
    user, headers = alice
    sql_counter.reset()
    response = call(handler, "GET", "/api/v1/me/profile", headers)
    assert response.status == 200 and sql_counter.count == 1
    # three skills (1, 4, 5) and what they earned: first_skill 2, skill_level_5 3, character_level_5 6
    assert response.json["username"] == "alice" and response.headers["x-sync-version"] == "6"
    assert "password_hash" not in response.json
    sql_counter.reset()
    updated = call(handler, "PATCH", "/api/v1/me/profile", headers, {"display_name": "Alice A.", "bio": "hi"})
    assert updated.status == 200 and sql_counter.count == 1
    assert (updated.json["display_name"], updated.json["bio"]) == ("Alice A.", "hi")
    assert updated.headers["x-sync-version"] == "7"
    change = db_one("SELECT entity, op, data FROM changes WHERE owner_id = %s AND version = 7", user["id"])
    assert change == {"entity": "profile", "op": "upsert", "data": updated.json}


def test_profile_noop_bumps_nothing(alice):
    user, headers = alice
    call(handler, "PATCH", "/api/v1/me/profile", headers, {"bio": "same"})
    before = snapshot(user["id"])
    again = call(handler, "PATCH", "/api/v1/me/profile", headers, {"bio": "same"})
    assert again.status == 200 and snapshot(user["id"]) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"display_name": "x" * 101}, "body.display_name"),
    ({"bio": "x" * 2001}, "body.bio"),
    ({"privacy_settings": {"profile_visibility": "friends"}}, "body.privacy_settings.profile_visibility"),
    ({"privacy_settings": None}, "body.privacy_settings"),
    ({"username": "root"}, "body.username"),
    ({"sync_version": 0}, "body.sync_version"),
])
def test_bad_profile_bodies_are_422_naming_the_field(alice, body, field):
    user, headers = alice
    response = call(handler, "PATCH", "/api/v1/me/profile", headers, body)
    assert response.status == 422, response
    assert field in [d["field"] for d in response.json["error"]["details"]]
    assert sync_version(user["id"]) == 6  # the fixture's three skills and their three awards


# --- character sheet -------------------------------------------------------------------------------

def test_stats_in_one_statement(alice, sql_counter):
    _, headers = alice
    sql_counter.reset()
    response = from_event(handler, "event-get-me-stats", headers)
    assert response.status == 200 and sql_counter.count == 1
    stats = response.json
    assert stats["total_level"] == 16 and stats["skill_count"] == 3
    assert stats["character_level"] == 5 and stats["next_level_at"] == 25  # 1 + isqrt(16)
    programming = next(c for c in stats["categories"] if c["category"] == "programming")
    assert programming == {"category": "programming", "skill_count": 2, "total_level": 12, "average_level": 6.0,
                           "max_level": 7}
    assert stats["radar"]["axes"][:3] == ["programming", "languages", "music"]
    assert stats["radar"]["values"][:3] == [6.0, 0, 4.0] and len(stats["radar"]["values"]) == 10


def test_stats_of_a_new_user(make_user):
    _, headers = make_user("newbie")
    stats = call(handler, "GET", "/api/v1/me/stats", headers).json
    assert (stats["total_level"], stats["character_level"], stats["radar"]["values"]) == (0, 1, [0] * 10)


# --- public profile ---------------------------------------------------------------------------------

def test_public_profile_is_one_statement_then_served_from_redis(alice, sql_counter, redis_counter):
    sql_counter.reset()
    first = call(handler, "GET", "/api/v1/users/Alice")
    assert first.status == 200 and sql_counter.count == 1
    body = first.json
    assert body["username"] == "alice" and [s["name"] for s in body["skills"]] == ["Python", "SQL", "Guitar"]
    assert body["character"]["character_level"] == 5 and "email" not in body
    sql_counter.reset()
    redis_counter.reset()
    second = call(handler, "GET", "/api/v1/users/alice")
    assert second.status == 200 and second.body == first.body
    assert sql_counter.count == 0 and redis_counter.count == 1  # one GET from the cache
    not_modified = call(handler, "GET", "/api/v1/users/alice", {"if-none-match": first.headers["etag"]})
    assert not_modified.status == 304 and not_modified.body == b""


def test_a_write_is_visible_on_public_views_immediately(alice, redis_counter):
    _, headers = alice
    profile = call(handler, "GET", "/api/v1/users/alice").json
    card = call(handler, "GET", "/api/v1/users/alice/card.svg").body
    board = call(handler, "GET", "/api/v1/leaderboard").json
    python = next(s for s in profile["skills"] if s["name"] == "Python")
    redis_counter.reset()
    assert call(skills_handler, "PATCH", f"/api/v1/skills/{python['id']}", headers, {"level": 10}).status == 200
    assert redis_counter.count == 1, redis_counter.statements  # after_write: one DEL of every affected key
    fresh = call(handler, "GET", "/api/v1/users/alice").json
    assert next(s for s in fresh["skills"] if s["name"] == "Python")["level"] == 10
    assert fresh["character"]["total_level"] == 19
    assert call(handler, "GET", "/api/v1/users/alice/card.svg").body != card
    # The boards are not emptied by skill writes: they refresh on their short TTL (issue 14).
    assert call(handler, "GET", "/api/v1/leaderboard").json == board
    get_redis().delete(public_cache.leaderboard_key(None))  # as its TTL would
    assert call(handler, "GET", "/api/v1/leaderboard").json["entries"][0]["score"] == 19 != board["entries"][0]["score"]
    call(handler, "PATCH", "/api/v1/me/profile", headers, {"display_name": "Alicia"})
    assert call(handler, "GET", "/api/v1/users/alice").json["display_name"] == "Alicia"
    assert call(handler, "GET", "/api/v1/leaderboard").json["entries"][0]["display_name"] == "Alicia"  # profile


def test_private_profile_card_and_leaderboard_entry_are_invisible(alice, make_user):
    _, alice_headers = alice
    _, bob_headers = make_user("bob")
    call(handler, "GET", "/api/v1/users/alice")  # cached while public
    make_private(alice_headers)
    missing = call(handler, "GET", "/api/v1/users/nobody")
    for headers in (None, bob_headers, alice_headers):
        profile = call(handler, "GET", "/api/v1/users/alice", headers)
        assert profile.status == 404 and profile.json == missing.json
        card = call(handler, "GET", "/api/v1/users/alice/card.svg", headers)
        assert card.status == 404 and card.json == call(handler, "GET", "/api/v1/users/nobody/card.svg").json
        board = call(handler, "GET", "/api/v1/leaderboard", headers).json["entries"]
        assert "alice" not in [e["username"] for e in board]
    assert call(handler, "GET", "/api/v1/users/a/b").status == 404  # not a username at all


# --- SVG card ------------------------------------------------------------------------------------------

def test_card_is_cacheable_svg(alice):
    response = from_event(handler, "event-get-user-card", path="/api/v1/users/alice/card.svg")
    assert response.status == 200, response
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "max-age=" in response.headers["cache-control"] and response.headers["cache-control"].startswith("public")
    root = ET.fromstring(response.body)  # noqa: S314 - our own SVG
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("width") == "600"
    again = from_event(handler, "event-get-user-card", {"if-none-match": response.headers["etag"]},
                       path="/api/v1/users/alice/card.svg")
    assert again.status == 304 and again.body == b""


def test_card_draws_a_hostile_display_name_as_text(make_user):
    _, headers = make_user("mallory", display_name='<script>alert("x")</script>')
    add(headers, "Lockpicking", "craft", 6)
    response = call(handler, "GET", "/api/v1/users/mallory/card.svg")
    assert response.status == 200
    root = ET.fromstring(response.body)  # noqa: S314 - our own SVG; parsing proves it well-formed
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith('<script>alert("x")') for t in texts)


# --- leaderboard -------------------------------------------------------------------------------------------

def test_leaderboard_ranks_public_profiles_and_filters_by_category(alice, make_user, sql_counter):
    _, bob_headers = make_user("bob")
    add(bob_headers, "Piano", "music", 9)
    add(bob_headers, "Go", "programming", 2)
    _, carol_headers = make_user("carol")
    add(carol_headers, "Chess", "mind", 10)
    add(carol_headers, "Go game", "mind", 10)
    make_private(carol_headers)
    sql_counter.reset()
    board = call(handler, "GET", "/api/v1/leaderboard").json
    assert sql_counter.count == 1
    assert [(e["rank"], e["username"], e["score"]) for e in board["entries"]] == [(1, "alice", 16), (2, "bob", 11)]
    assert board["entries"][0]["character_level"] == 5
    music = call(handler, "GET", "/api/v1/leaderboard", query={"category": "music"}).json
    assert [(e["username"], e["score"], e["total_level"]) for e in music["entries"]] == [("bob", 9, 11),
                                                                                         ("alice", 4, 16)]
    assert call(handler, "GET", "/api/v1/leaderboard", query={"category": "mind"}).json["entries"] == []
    sql_counter.reset()
    call(handler, "GET", "/api/v1/leaderboard")
    assert sql_counter.count == 0  # cached


def test_leaderboard_cache_is_short_lived(alice):
    from shared.clients.redis import get_redis

    call(handler, "GET", "/api/v1/leaderboard")
    ttl = get_redis().ttl(public_cache.leaderboard_key(None))
    assert 0 < ttl <= public_cache.LEADERBOARD_TTL_S


def test_unknown_leaderboard_category_is_422():
    response = call(handler, "GET", "/api/v1/leaderboard", query={"category": "cooking"})
    assert response.status == 422 and response.json["error"]["details"][0]["field"] == "query.category"


def test_public_views_still_answer_when_redis_is_down(alice, stack):
    from shared.clients.registry import reset_all

    stack.stop_bridge()
    try:
        reset_all()
        assert call(handler, "GET", "/api/v1/users/alice").status == 200
    finally:
        stack.start_bridge()
        reset_all()


def test_timezone_and_digest_opt_out_are_profile_settings(make_user):
    """The weekly digest reads both; a user sets them like any other profile field."""
    from shared.clients import db

    user, auth = make_user()
    ok = invoke(handler, http_event("PATCH", "/api/v1/me/profile", headers=auth,
                                    body={"timezone": "Asia/Tokyo", "digest_opt_out": True}))
    assert ok.status == 200, ok
    assert ok.json["timezone"] == "Asia/Tokyo" and ok.json["digest_opt_out"] is True
    stored = db.get_conn().execute("SELECT timezone, digest_opt_out FROM users WHERE id = %s", (user["id"],)).fetchone()
    assert stored == {"timezone": "Asia/Tokyo", "digest_opt_out": True}
    for bad in ({"timezone": "Mars/Olympus"}, {"timezone": None}, {"digest_opt_out": "maybe"}):
        response = invoke(handler, http_event("PATCH", "/api/v1/me/profile", headers=auth, body=bad))
        assert response.status == 422, (bad, response)
        assert response.json["error"]["details"][0]["field"] == f"body.{next(iter(bad))}"
