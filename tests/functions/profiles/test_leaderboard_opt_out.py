"""The leaderboard opt-out (issue 17), separate from profile privacy, through the real handlers."""

from __future__ import annotations

import pytest

from functions.profiles.app import handler
from functions.skills.app import handler as skills_handler
from tests.support.skills import call


def add(headers, name, category, level):
    response = call(skills_handler, "POST", "/api/v1/skills", headers, {"name": name, "category": category,
                                                                         "level": level})
    assert response.status == 201, response


def privacy(headers, **settings):
    response = call(handler, "PATCH", "/api/v1/me/profile", headers, {"privacy_settings": settings})
    assert response.status == 200, response
    return response.json["privacy_settings"]


def boards():
    """Usernames on the overall board and on the music board."""
    return ([e["username"] for e in call(handler, "GET", "/api/v1/leaderboard").json["entries"]],
            [e["username"] for e in call(handler, "GET", "/api/v1/leaderboard", query={"category": "music"})
             .json["entries"]])


@pytest.fixture
def players(make_user):
    _, alice = make_user("alice", display_name="Alice")
    add(alice, "Guitar", "music", 9)
    _, bob = make_user("bob", display_name="Bob")
    add(bob, "Piano", "music", 4)
    return alice, bob


def test_a_hidden_profile_is_on_no_board_but_stays_public(players):
    alice, _ = players
    assert boards() == (["alice", "bob"], ["alice", "bob"])
    assert privacy(alice, leaderboard="hidden") == {"profile_visibility": "public", "leaderboard": "hidden"}
    assert boards() == (["bob"], ["bob"])  # at once: a profile write drops the cached boards
    assert [e["rank"] for e in call(handler, "GET", "/api/v1/leaderboard").json["entries"]] == [1]
    assert call(handler, "GET", "/api/v1/users/alice").status == 200
    assert call(handler, "GET", "/api/v1/users/alice/card.svg").status == 200
    assert "alice" in [i["username"] for i in call(handler, "GET", "/api/v1/users", query={"q": "alice"}).json["items"]]
    add(alice, "Drums", "music", 7)  # scores stay maintained while hidden
    assert privacy(alice, leaderboard="listed")["leaderboard"] == "listed"
    entries = call(handler, "GET", "/api/v1/leaderboard", query={"category": "music"}).json["entries"]
    assert [(e["username"], e["score"]) for e in entries] == [("alice", 16), ("bob", 4)]


def test_privacy_wins_over_listed(players):
    _, bob = players
    assert privacy(bob, profile_visibility="private") == {"profile_visibility": "private"}
    assert privacy(bob, leaderboard="listed") == {"profile_visibility": "private", "leaderboard": "listed"}
    assert boards() == (["alice"], ["alice"])
    assert privacy(bob, profile_visibility="public")["leaderboard"] == "listed"  # each setting kept alone
    assert boards() == (["alice", "bob"], ["alice", "bob"])


@pytest.mark.parametrize("settings,field", [
    ({}, "body.privacy_settings"),
    ({"leaderboard": "maybe"}, "body.privacy_settings.leaderboard"),
    ({"leaderboard": None}, "body.privacy_settings.leaderboard"),
    ({"profile_visibility": None}, "body.privacy_settings.profile_visibility"),
    ({"ranked": False}, "body.privacy_settings.ranked"),
])
def test_bad_privacy_settings_are_422_naming_the_field(players, settings, field):
    alice, _ = players
    response = call(handler, "PATCH", "/api/v1/me/profile", alice, {"privacy_settings": settings})
    assert response.status == 422, response
    assert response.json["error"]["details"][0]["field"] == field
