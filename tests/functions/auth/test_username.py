"""Changing the username (issue 15): the old name stays reserved for others, the owner may take it back."""

from __future__ import annotations

from functions.profiles.app import handler as profiles_handler
from shared.clients import db
from shared.clients.redis import get_redis
from shared.public import cache as public_cache
from tests.functions.auth.test_app import bearer, call, login, register
from tests.support.skills import call as call_function


def rename(pair: dict, username: str):
    return call("PUT", "/me/username", {"username": username}, headers=bearer(pair))


def test_renaming_reserves_the_old_name_and_moves_the_public_link():
    pair = register("quester")
    assert call_function(profiles_handler, "GET", "/api/v1/users/quester").status == 200  # cached now
    version = db.get_conn().execute("SELECT sync_version FROM users").fetchone()["sync_version"]
    response = rename(pair, "Knight_01")
    assert response.status == 200 and response.json["username"] == "knight_01", response
    assert get_redis().exists(public_cache.profile_key("quester")) == 0  # the old name's view is gone
    assert call_function(profiles_handler, "GET", "/api/v1/users/quester").status == 404
    assert call_function(profiles_handler, "GET", "/api/v1/users/knight_01").status == 200
    change = db.get_conn().execute("SELECT version, data FROM changes ORDER BY version DESC LIMIT 1").fetchone()
    assert change["version"] == version + 1 and change["data"]["username"] == "knight_01"
    squatter = call("POST", "/auth/register", {"username": "quester", "email": "s@example.com",
                                               "password": "a long enough passphrase"})
    assert squatter.status == 409 and squatter.json["error"]["details"][0]["field"] == "body.username"
    assert login("knight_01").status == 200
    assert rename(pair, "quester").status == 200  # the owner takes the old name back
    assert rename(pair, "knight_01").status == 200  # and back again: their own tombstone does not bar them


def test_a_taken_or_unchanged_name_is_a_409_naming_the_field():
    pair = register("quester")
    register("other")
    for name, code in (("other", "already_exists"), ("QUESTER", "unchanged")):
        response = rename(pair, name)
        assert response.status == 409 and response.json["error"]["code"] == code, response
        assert response.json["error"]["details"][0]["field"] == "body.username"
    assert rename(pair, "no spaces!").status == 422
    kinds = [r["kind"] for r in db.get_conn().execute("SELECT kind FROM security_events").fetchall()]
    assert "username_changed" not in kinds
