"""Achievements through the real handlers: mine with the catalogue and rarity, on the public profile
and card (public profiles only), and never anyone else's."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from functions.profiles.app import handler
from functions.skills.app import handler as skills_handler
from shared.clients import db
from shared.clients.registry import reset_all
from shared.models.achievements import BY_CODE, CATALOGUE
from shared.ops import maintenance
from tests.support.skills import call

FOREVER = 10**9


def add(headers, name, category, level):
    response = call(skills_handler, "POST", "/api/v1/skills", headers, {"name": name, "category": category,
                                                                         "level": level})
    assert response.status == 201, response
    return response.json


def mine(headers):
    response = call(handler, "GET", "/api/v1/me/achievements", headers)
    assert response.status == 200, response
    return response


def test_mine_lists_my_awards_newest_first_and_the_whole_catalogue(make_user):
    _, headers = make_user("alice")
    created = add(headers, "Go", "programming", 3)
    response = mine(headers)
    body = response.json
    assert [a["code"] for a in body["earned"]] == ["first_skill"]
    assert body["earned"][0]["awarded_at"].endswith("Z") and response.headers["x-sync-version"] == "2"
    assert [c["code"] for c in body["catalogue"]] == [a.code for a in CATALOGUE]
    first = body["catalogue"][0]
    assert first == {"code": "first_skill", "name": "First step", "description": "Add your first skill.", "tier": 1,
                     "rarity": None, "earned": True}
    up = call(skills_handler, "PATCH", f"/api/v1/skills/{created['id']}", headers, {"level": 5})
    assert up.status == 200 and up.headers["x-sync-version"] == "5"  # the write (3) and its two awards
    assert [a["code"] for a in mine(headers).json["earned"]] == ["first_level_up", "skill_level_5", "first_skill"]


def test_another_users_token_never_sees_my_awards(make_user):
    _, alice = make_user("alice")
    _, bob = make_user("bob")
    add(alice, "Go", "programming", 10)
    assert [a["code"] for a in mine(bob).json["earned"]] == []
    assert not any(c["earned"] for c in mine(bob).json["catalogue"])
    assert call(handler, "GET", "/api/v1/me/achievements").status == 401


def test_rarity_is_a_rounded_share_shown_only_from_enough_holders(make_user, monkeypatch):
    headers = [make_user(f"user_{n}")[1] for n in range(3)]
    add(headers[0], "Go", "programming", 10)
    add(headers[1], "Go", "programming", 2)
    maintenance.run(lambda: FOREVER)
    monkeypatch.setenv("ACHIEVEMENT_RARITY_MIN_HOLDERS", "2")
    reset_all()
    rarity = {c["code"]: c["rarity"] for c in mine(headers[2]).json["catalogue"]}
    assert rarity["first_skill"] == 66.7  # 2 of 3 users
    assert rarity["skill_level_10"] is None  # 1 holder: below the minimum, never an identifiable share
    stored = db.get_conn().execute("SELECT holders, users FROM achievement_rarity WHERE code = 'first_skill'")
    assert stored.fetchone() == {"holders": 2, "users": 3}


def test_public_profile_and_card_show_earned_achievements_private_ones_show_nothing(make_user):
    _, headers = make_user("alice", display_name="Alice")
    add(headers, "Go", "programming", 10)
    profile = call(handler, "GET", "/api/v1/users/alice")
    assert profile.status == 200 and sorted(profile.json["achievements"]) == [
        "first_skill", "skill_level_10", "skill_level_5"]
    card = call(handler, "GET", "/api/v1/users/alice/card.svg")
    root = ET.fromstring(card.body)  # noqa: S314 - our own SVG
    badges = [t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "badges"]
    assert len(badges) == 1 and BY_CODE["skill_level_10"].name in "".join(badges[0].itertext())
    private = call(handler, "PATCH", "/api/v1/me/profile", headers,
                   {"privacy_settings": {"profile_visibility": "private"}})
    assert private.status == 200
    for path in ("/api/v1/users/alice", "/api/v1/users/alice/card.svg"):
        hidden = call(handler, "GET", path)
        assert hidden.status == 404 and b"skill_level" not in hidden.body


def test_the_catalogue_speaks_the_callers_language_and_says_so(make_user):
    """Names and descriptions follow the caller's language (issue 17, two languages); codes do not.
    The answer is per user AND per language, so both are in its Vary."""
    _, headers = make_user("alice")
    add(headers, "Go", "programming", 3)
    english = mine(headers)
    indonesian = call(handler, "GET", "/api/v1/me/achievements", {**headers, "accept-language": "id-ID, en;q=0.5"})
    assert indonesian.status == 200 and indonesian.headers["content-language"] == "id"
    assert indonesian.headers["vary"] == "Authorization, Accept-Language"
    first = indonesian.json["catalogue"][0]
    assert (first["code"], first["name"], first["description"]) == (
        "first_skill", "Langkah pertama", "Tambahkan keahlian pertamamu.")
    assert [c["code"] for c in indonesian.json["catalogue"]] == [c["code"] for c in english.json["catalogue"]]
    assert all(i["name"] != e["name"] for i, e in zip(indonesian.json["catalogue"], english.json["catalogue"],
                                                       strict=True))  # every name has its Indonesian
    assert english.headers["etag"] != indonesian.headers["etag"]
