"""The skills function through its real handler, against the real Postgres and Redis."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from functions.skills.app import handler
from shared.clients import db
from shared.repositories import skills as repo
from tests.support.skills import call, db_all, db_one, from_event, snapshot, sync_version


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def add(headers, name="Python", category="programming", level=3, **extra):
    response = call(handler, "POST", "/api/v1/skills", headers, {"name": name, "category": category, "level": level,
                                                                  **extra})
    assert response.status == 201, response
    return response.json


# --- writes: one statement each, with history, version and change log ---------------------------

def test_create_writes_skill_history_version_and_change_in_one_statement(alice, sql_counter):
    user, headers = alice
    response = from_event(handler, "event-post-skill", headers)
    assert response.status == 201, response
    assert sql_counter.count == 1, sql_counter.statements
    skill = response.json
    assert (skill["name"], skill["category"], skill["level"]) == ("Python", "programming", 7)
    # the skill at version 1, then the achievements it earned: first_skill (2), skill_level_5 (3)
    assert response.headers["x-sync-version"] == "3" and response.headers["etag"].startswith('"')
    history = db_all("SELECT previous_level, new_level, note FROM skill_progress WHERE skill_id = %s", skill["id"])
    assert history == [{"previous_level": None, "new_level": 7, "note": "started tracking"}]
    change = db_one("SELECT * FROM changes WHERE owner_id = %s AND entity = 'skill'", user["id"])
    assert (change["version"], change["entity"], change["op"], str(change["entity_id"])) == (1, "skill", "upsert",
                                                                                                 skill["id"])
    assert change["data"] == skill  # the change log holds exactly what the API returned


def test_level_change_writes_history_row_atomically_in_one_statement(alice, sql_counter):
    user, headers = alice
    skill = add(headers, level=3)
    sql_counter.reset()
    response = from_event(handler, "event-patch-skill", headers, path=f"/api/v1/skills/{skill['id']}")
    assert response.status == 200, response
    assert sql_counter.count == 1, sql_counter.statements  # no BEGIN/COMMIT: one CTE statement
    # versions: the skill 1 (first_skill 2), the level-up 3 (first_level_up 4, skill_level_5 5)
    assert response.json["level"] == 8 and response.headers["x-sync-version"] == "5"
    rows = db_all("SELECT previous_level, new_level, note FROM skill_progress WHERE skill_id = %s ORDER BY id",
                  skill["id"])
    assert rows[-1] == {"previous_level": 3, "new_level": 8, "note": "shipped the sync engine"}
    assert db_one("SELECT data FROM changes WHERE owner_id = %s AND version = 3", user["id"])["data"] == response.json


def test_failure_inside_the_write_leaves_neither_level_nor_history(alice):
    """The history row is part of the same statement: when it fails (a note the DB refuses), nothing stays."""
    user, headers = alice
    skill = add(headers, level=3)
    before = snapshot(user["id"])
    with pytest.raises(psycopg.errors.CheckViolation):
        repo.update_skill(db.get_conn(), user["id"], uuid.UUID(skill["id"]), {"level": 9}, note="x" * 501)
    assert snapshot(user["id"]) == before


def test_other_fields_change_without_history_and_noop_bumps_nothing(alice):
    user, headers = alice
    skill = add(headers, level=4)
    response = call(handler, "PATCH", f"/api/v1/skills/{skill['id']}", headers, {"description": "daily", "name": "Py"})
    assert response.status == 200 and response.json["description"] == "daily" and response.json["name"] == "Py"
    assert len(db_all("SELECT 1 FROM skill_progress WHERE skill_id = %s", skill["id"])) == 1
    before = snapshot(user["id"])
    again = call(handler, "PATCH", f"/api/v1/skills/{skill['id']}", headers, {"description": "daily", "level": 4})
    assert again.status == 200 and again.json == response.json
    assert again.headers["x-sync-version"] == "3"  # the skill 1, its first_skill 2, the edit 3
    assert snapshot(user["id"]) == before  # same values: no version, no change row, no history


def test_description_can_be_cleared_but_name_cannot_be_null(alice):
    _, headers = alice
    skill = add(headers, description="x")
    cleared = call(handler, "PATCH", f"/api/v1/skills/{skill['id']}", headers, {"description": None})
    assert cleared.status == 200 and cleared.json["description"] is None
    refused = call(handler, "PATCH", f"/api/v1/skills/{skill['id']}", headers, {"name": None})
    assert refused.status == 422 and refused.json["error"]["details"][0]["field"] == "body.name"


def test_delete_logs_a_tombstone_and_second_delete_is_404_without_bump(alice, sql_counter):
    user, headers = alice
    skill = add(headers)
    sql_counter.reset()
    response = call(handler, "DELETE", f"/api/v1/skills/{skill['id']}", headers)
    assert response.status == 204 and response.headers["x-sync-version"] == "3"  # the skill 1, first_skill 2
    assert sql_counter.count == 1
    tomb = db_one("SELECT op, data, entity_id FROM changes WHERE owner_id = %s AND version = 3", user["id"])
    assert tomb["op"] == "delete" and tomb["data"] is None and str(tomb["entity_id"]) == skill["id"]
    assert db_all("SELECT 1 FROM skill_progress WHERE skill_id = %s", skill["id"]) == []
    again = call(handler, "DELETE", f"/api/v1/skills/{skill['id']}", headers)
    assert again.status == 404 and again.headers["x-sync-version"] == "3"
    assert sync_version(user["id"]) == 3


def test_duplicate_name_is_409_case_insensitively_and_changes_nothing(alice):
    user, headers = alice
    add(headers, name="Python")
    other = add(headers, name="Go")
    before = snapshot(user["id"])
    response = call(handler, "POST", "/api/v1/skills", headers, {"name": "pYTHON", "category": "programming",
                                                                  "level": 2})
    assert response.status == 409 and response.json["error"]["details"][0]["field"] == "body.name"
    renamed = call(handler, "PATCH", f"/api/v1/skills/{other['id']}", headers, {"name": "PYTHON"})
    assert renamed.status == 409
    assert snapshot(user["id"]) == before


def test_same_name_is_fine_for_two_users(alice, make_user):
    _, headers = alice
    _, bob_headers = make_user("bob")
    add(headers, name="Chess", category="mind")
    add(bob_headers, name="chess", category="mind")


# --- object-level authorization -----------------------------------------------------------------

def test_another_users_skill_is_404_for_every_route_and_nothing_changes(alice, make_user):
    alice_user, alice_headers = alice
    bob, bob_headers = make_user("bob")
    bobs = add(bob_headers, name="Violin", category="music", level=5)
    add(alice_headers, name="Guitar", category="music", level=2)
    before = {"bob": snapshot(bob["id"]), "alice": snapshot(alice_user["id"])}
    path = f"/api/v1/skills/{bobs['id']}"
    attempts = [
        call(handler, "GET", path, alice_headers),
        call(handler, "PATCH", path, alice_headers, {"level": 10, "note": "mine now"}),
        call(handler, "DELETE", path, alice_headers),
        call(handler, "GET", f"{path}/progress", alice_headers),
    ]
    missing = call(handler, "GET", f"/api/v1/skills/{uuid.uuid4()}", alice_headers)
    for response in attempts:
        assert response.status == 404, response
        assert response.json == missing.json  # indistinguishable from a skill that does not exist
        assert response.headers["x-sync-version"] == "2"  # alice's own version (Guitar, first_skill), unchanged
    listed = call(handler, "GET", "/api/v1/skills", alice_headers).json["items"]
    timeline = call(handler, "GET", "/api/v1/progress", alice_headers).json["items"]
    assert [s["name"] for s in listed] == ["Guitar"] and {t["skill_name"] for t in timeline} == {"Guitar"}
    assert {"bob": snapshot(bob["id"]), "alice": snapshot(alice_user["id"])} == before


def test_anonymous_and_forged_callers_are_401(alice):
    response = call(handler, "GET", "/api/v1/skills")
    assert response.status == 401
    forged = call(handler, "GET", "/api/v1/skills", {"authorization": "Bearer not.a.token"})
    assert forged.status == 401


# --- reads: exactly one statement, sync version, ETag -------------------------------------------

def test_every_read_is_one_statement_and_carries_the_sync_version(alice, sql_counter):
    _, headers = alice
    skill = add(headers)
    add(headers, name="Rust", level=2)
    for path, query in [("/api/v1/skills", {"category": "programming", "sort": "-level"}),
                        (f"/api/v1/skills/{skill['id']}", None), (f"/api/v1/skills/{skill['id']}/progress", None),
                        ("/api/v1/progress", {"since": "2000-01-01T00:00:00Z"})]:
        sql_counter.reset()
        response = call(handler, "GET", path, headers, query=query)
        assert response.status == 200, response
        assert sql_counter.count == 1, (path, sql_counter.statements)
        assert response.headers["x-sync-version"] == "3"  # two skills and the first one's first_skill


def test_if_none_match_gives_304_without_body(alice):
    _, headers = alice
    add(headers)
    first = from_event(handler, "event-get-skills", headers)
    assert first.status == 200 and len(first.json["items"]) == 1
    again = from_event(handler, "event-get-skills", {**headers, "if-none-match": first.headers["etag"]})
    assert again.status == 304 and again.body == b""
    assert again.headers["etag"] == first.headers["etag"] and again.headers["x-sync-version"] == "2"  # + first_skill
    add(headers, name="Go")
    changed = from_event(handler, "event-get-skills", {**headers, "if-none-match": first.headers["etag"]})
    assert changed.status == 200 and changed.headers["etag"] != first.headers["etag"]


# --- listing: filter, sort, cursor pagination ---------------------------------------------------

@pytest.mark.parametrize("sort", ["name", "-name", "level", "-level", "created_at", "-updated_at"])
def test_pages_cover_every_skill_once_in_a_stable_order(alice, sort):
    _, headers = alice
    for i in range(23):
        add(headers, name=f"Skill {i:02d}", level=1 + i % 10, category="science" if i % 3 else "craft")
    seen, cursor = [], None
    while True:
        query = {"sort": sort, "limit": 5, **({"cursor": cursor} if cursor else {})}
        page = call(handler, "GET", "/api/v1/skills", headers, query=query).json
        assert len(page["items"]) <= 5
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 23 and len({s["id"] for s in seen}) == 23
    field, reverse = sort.lstrip("-"), sort.startswith("-")
    key = (lambda s: (s["name"].lower(), s["id"])) if field == "name" else (lambda s: (s[field], s["id"]))
    assert seen == sorted(seen, key=key, reverse=reverse)


def test_category_filter(alice):
    _, headers = alice
    add(headers, name="Python")
    add(headers, name="Piano", category="music")
    items = call(handler, "GET", "/api/v1/skills", headers, query={"category": "music"}).json["items"]
    assert [s["name"] for s in items] == ["Piano"]


@pytest.mark.parametrize(("query", "field"), [
    ({"limit": 0}, "query.limit"), ({"limit": -1}, "query.limit"), ({"limit": 101}, "query.limit"),
    ({"category": "cooking"}, "query.category"), ({"category": "Programming"}, "query.category"),
    ({"sort": "password"}, "query.sort"), ({"cursor": "not-a-cursor"}, "query.cursor"),
])
def test_bad_list_parameters_are_422_naming_the_field(alice, query, field):
    _, headers = alice
    response = call(handler, "GET", "/api/v1/skills", headers, query=query)
    assert response.status == 422, response
    assert field in [d["field"] for d in response.json["error"]["details"]]


def test_a_cursor_for_another_sort_or_a_forged_value_is_422(alice):
    from shared.repositories.cursors import encode_cursor

    _, headers = alice
    for i in range(3):
        add(headers, name=f"S{i}")
    cursor = call(handler, "GET", "/api/v1/skills", headers, query={"limit": 1}).json["next_cursor"]
    assert call(handler, "GET", "/api/v1/skills", headers, query={"sort": "level", "cursor": cursor}).status == 422
    forged = encode_cursor("level", 99999, "not-a-uuid")
    assert call(handler, "GET", "/api/v1/skills", headers, query={"sort": "level", "cursor": forged}).status == 422


# --- bad bodies -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ({"name": "X", "category": "programming", "level": 0}, "body.level"),
    ({"name": "X", "category": "programming", "level": 11}, "body.level"),
    ({"name": "X", "category": "programming", "level": "5"}, "body.level"),
    ({"name": "X", "category": "programming", "level": 5.5}, "body.level"),
    ({"name": "", "category": "programming", "level": 5}, "body.name"),
    ({"name": "X" * 101, "category": "programming", "level": 5}, "body.name"),
    ({"name": "X", "category": "cooking", "level": 5}, "body.category"),
    ({"name": "X", "category": "programming", "level": 5, "owner_id": str(uuid.uuid4())}, "body.owner_id"),
    ({"name": "X", "category": "programming", "level": 5, "note": "n" * 501}, "body.note"),
])
def test_bad_create_bodies_are_422_naming_the_field(alice, body, field):
    user, headers = alice
    response = call(handler, "POST", "/api/v1/skills", headers, body)
    assert response.status == 422, response
    assert field in [d["field"] for d in response.json["error"]["details"]]
    assert sync_version(user["id"]) == 0


def test_patch_level_out_of_range_and_note_without_level_are_422(alice):
    _, headers = alice
    skill = add(headers)
    path = f"/api/v1/skills/{skill['id']}"
    assert call(handler, "PATCH", path, headers, {"level": 11}).json["error"]["details"][0]["field"] == "body.level"
    assert call(handler, "PATCH", path, headers, {"note": "why"}).status == 422


def test_database_enforces_the_level_range_too(alice):
    user, _ = alice
    with pytest.raises(psycopg.errors.CheckViolation):
        repo.create_skill(db.get_conn(), user["id"], name="Cheat", category="mind", level=11)


def test_body_that_is_not_json_is_400_and_wrong_content_type_415(alice):
    _, headers = alice
    broken = call(handler, "POST", "/api/v1/skills", headers, b"{not json")
    assert broken.status == 400 and broken.json["error"]["code"] == "invalid_json"
    form = call(handler, "POST", "/api/v1/skills", {**headers, "content-type": "application/x-www-form-urlencoded"},
                b"name=x&level=3")
    assert form.status == 415


# --- history ----------------------------------------------------------------------------------

def test_progress_is_newest_first_and_paginated(alice):
    _, headers = alice
    skill = add(headers, level=1)
    for level in range(2, 8):
        call(handler, "PATCH", f"/api/v1/skills/{skill['id']}", headers, {"level": level, "note": f"to {level}"})
    first = call(handler, "GET", f"/api/v1/skills/{skill['id']}/progress", headers, query={"limit": 4}).json
    rest = call(handler, "GET", f"/api/v1/skills/{skill['id']}/progress", headers,
                query={"limit": 4, "cursor": first["next_cursor"]}).json
    levels = [p["new_level"] for p in first["items"] + rest["items"]]
    assert levels == [7, 6, 5, 4, 3, 2, 1] and rest["next_cursor"] is None
    assert first["items"][0] == {**first["items"][0], "previous_level": 6, "note": "to 7", "skill_name": "Python"}


def test_timeline_since_filters_across_skills(alice):
    _, headers = alice
    a = add(headers, name="A", level=1)
    add(headers, name="B", level=1)
    cutoff = db_one("SELECT now() AS t")["t"].isoformat()
    call(handler, "PATCH", f"/api/v1/skills/{a['id']}", headers, {"level": 2})
    items = call(handler, "GET", "/api/v1/progress", headers, query={"since": cutoff}).json["items"]
    assert [(i["skill_name"], i["previous_level"], i["new_level"]) for i in items] == [("A", 1, 2)]
    everything = call(handler, "GET", "/api/v1/progress", headers).json["items"]
    assert len(everything) == 3
    assert call(handler, "GET", "/api/v1/progress", headers, query={"since": "yesterday"}).status == 422
