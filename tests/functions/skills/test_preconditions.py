"""Conditional REST writes (issue 13): If-Match / If-Unmodified-Since on skills and the profile,
checked inside the one write statement; a mismatch is a 412 with the current entity, recorded as a
conflict in the change log. Real handlers, real Postgres."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from functions.profiles.app import handler as profiles
from functions.skills.app import handler as skills
from tests.support.skills import call, db_all, db_one, snapshot, sync_version

TRICKY = 'Gui"tar \\ é ✓ 🎸 line\nbreak\ttab\x01ctl'


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def add(headers, name="Guitar", level=3):
    response = call(skills, "POST", "/api/v1/skills", headers, {"name": name, "category": "music", "level": level})
    assert response.status == 201, response
    return response


def test_two_devices_with_if_match_the_second_gets_412_with_the_current_state(alice, sql_counter):
    user, headers = alice
    created = add(headers)
    skill_id, etag = created.json["id"], created.headers["etag"]
    got = call(skills, "GET", f"/api/v1/skills/{skill_id}", headers)
    assert got.headers["etag"] == etag  # the ETag a write and a read serve are the same validator

    sql_counter.reset()
    first = call(skills, "PATCH", f"/api/v1/skills/{skill_id}", {**headers, "if-match": etag}, {"level": 5})
    assert first.status == 200 and first.json["level"] == 5
    assert sql_counter.count == 1, sql_counter.statements  # the check is inside the write statement
    assert first.headers["etag"] != etag

    before = db_one("SELECT * FROM skills WHERE id = %s", skill_id)
    sql_counter.reset()
    second = call(skills, "PATCH", f"/api/v1/skills/{skill_id}", {**headers, "if-match": etag}, {"level": 9})
    assert second.status == 412, second
    assert sql_counter.count == 1, sql_counter.statements
    error = second.json["error"]
    assert error["code"] == "precondition_failed"
    assert error["details"]["current"] == first.json  # the state that won
    assert second.headers["etag"] == first.headers["etag"]  # retry with this after merging
    assert db_one("SELECT * FROM skills WHERE id = %s", skill_id) == before  # nothing written
    assert [r["new_level"] for r in db_all("SELECT new_level FROM skill_progress WHERE skill_id = %s ORDER BY id",
                                           skill_id)] == [3, 5]

    conflict = error["details"]["conflict"]
    assert (conflict["entity"], conflict["entity_id"], conflict["source"], conflict["resolution"]) == \
           ("skill", skill_id, "rest", "stored_won")
    assert conflict["winner"] == first.json and conflict["loser"]["level"] == 9
    logged = db_one("SELECT entity, entity_id, op, data, version FROM changes WHERE owner_id = %s "
                    "ORDER BY version DESC LIMIT 1", user["id"])
    assert (logged["entity"], str(logged["entity_id"]), logged["op"]) == ("conflict", conflict["id"], "upsert")
    # versions: the skill 1 (and its first_skill 2), level 5 at 3 (first_level_up 4, skill_level_5 5), the conflict 6
    assert logged["data"] == conflict and logged["version"] == sync_version(user["id"]) == 6
    assert second.headers["x-sync-version"] == "6"

    retried = call(skills, "PATCH", f"/api/v1/skills/{skill_id}", {**headers, "if-match": second.headers["etag"]},
                   {"level": 9})
    assert retried.status == 200 and retried.json["level"] == 9


def test_the_sql_etag_equals_the_served_etag_for_any_text(alice):
    """Postgres recomputes the ETag from the row; escapes, non-ASCII and control characters included."""
    _, headers = alice
    skill_id = add(headers).json["id"]
    edited = call(skills, "PATCH", f"/api/v1/skills/{skill_id}", headers, {"name": TRICKY, "description": TRICKY})
    assert edited.status == 200, edited
    ok = call(skills, "PATCH", f"/api/v1/skills/{skill_id}", {**headers, "if-match": edited.headers["etag"]},
              {"level": 4})
    assert ok.status == 200, ok

    profile = call(profiles, "PATCH", "/api/v1/me/profile", headers, {"bio": TRICKY, "display_name": "Ä 🎸"})
    assert profile.status == 200, profile
    again = call(profiles, "PATCH", "/api/v1/me/profile", {**headers, "if-match": profile.headers["etag"]},
                 {"privacy_settings": {"profile_visibility": "private"}})
    assert again.status == 200, again


def test_if_match_lists_star_and_weak_tags(alice):
    _, headers = alice
    created = add(headers)
    path, etag = f"/api/v1/skills/{created.json['id']}", created.headers["etag"]
    weak = call(skills, "PATCH", path, {**headers, "if-match": f"W/{etag}"}, {"level": 4})
    assert weak.status == 412  # If-Match compares strongly: a weak tag never matches
    listed = call(skills, "PATCH", path, {**headers, "if-match": f'"nope", {etag}'}, {"level": 4})
    assert listed.status == 200
    star = call(skills, "PATCH", path, {**headers, "if-match": "*"}, {"level": 5})
    assert star.status == 200


def test_if_unmodified_since_uses_last_modified(alice):
    _, headers = alice
    created = add(headers)
    path = f"/api/v1/skills/{created.json['id']}"
    last_modified = created.headers["last-modified"]
    ok = call(skills, "PATCH", path, {**headers, "if-unmodified-since": last_modified}, {"level": 4})
    assert ok.status == 200, ok
    earlier = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    stale = call(skills, "PATCH", path, {**headers, "if-unmodified-since": earlier}, {"level": 6})
    assert stale.status == 412 and stale.json["error"]["details"]["current"]["level"] == 4
    garbage = call(skills, "PATCH", path, {**headers, "if-unmodified-since": "yesterday-ish"}, {"level": 6})
    assert garbage.status == 200  # not an HTTP-date: ignored (RFC 9110 13.1.4)


def test_delete_with_a_stale_etag_keeps_the_skill(alice):
    _, headers = alice
    created = add(headers)
    path = f"/api/v1/skills/{created.json['id']}"
    changed = call(skills, "PATCH", path, headers, {"level": 7})
    gone = call(skills, "DELETE", path, {**headers, "if-match": created.headers["etag"]})
    assert gone.status == 412 and gone.json["error"]["details"]["current"] == changed.json
    assert gone.json["error"]["details"]["conflict"]["loser"] is None  # the delete lost
    assert db_one("SELECT level FROM skills WHERE id = %s", created.json["id"])["level"] == 7
    deleted = call(skills, "DELETE", path, {**headers, "if-match": changed.headers["etag"]})
    assert deleted.status == 204


def test_a_precondition_on_a_foreign_or_missing_skill_is_the_same_404(alice, make_user):
    _, headers = alice
    _, bob_headers = make_user("bob")
    bobs = add(bob_headers, "Bass")
    before = snapshot(db_one("SELECT id FROM users WHERE username = 'bob'")["id"])
    answers = []
    for skill_id in (bobs.json["id"], str(uuid.uuid4())):
        for method in ("PATCH", "DELETE"):
            response = call(skills, method, f"/api/v1/skills/{skill_id}", {**headers, "if-match": '"x"'},
                            {"level": 2} if method == "PATCH" else None)
            answers.append((response.status, response.json["error"]))
    assert answers[0] == answers[2] and answers[1] == answers[3] and answers[0][0] == 404
    assert snapshot(db_one("SELECT id FROM users WHERE username = 'bob'")["id"]) == before


def test_profile_if_match_412_carries_the_current_profile_and_records_a_conflict(alice, sql_counter):
    user, headers = alice
    got = call(profiles, "GET", "/api/v1/me/profile", headers)
    etag = got.headers["etag"]
    first = call(profiles, "PATCH", "/api/v1/me/profile", {**headers, "if-match": etag}, {"bio": "one"})
    assert first.status == 200
    before = db_one("SELECT bio, updated_at FROM users WHERE id = %s", user["id"])
    sql_counter.reset()
    second = call(profiles, "PATCH", "/api/v1/me/profile", {**headers, "if-match": etag}, {"bio": "two"})
    assert second.status == 412 and sql_counter.count == 1, sql_counter.statements
    assert second.json["error"]["details"]["current"] == first.json
    assert second.json["error"]["details"]["conflict"]["loser"]["bio"] == "two"
    assert db_one("SELECT bio, updated_at FROM users WHERE id = %s", user["id"]) == before
    assert db_one("SELECT entity FROM changes WHERE owner_id = %s ORDER BY version DESC LIMIT 1",
                  user["id"])["entity"] == "conflict"
    plain = call(profiles, "PATCH", "/api/v1/me/profile", headers, {"bio": "three"})
    assert plain.status == 200 and plain.json["bio"] == "three"  # no precondition: last write wins


def test_profile_if_unmodified_since(alice):
    _, headers = alice
    got = call(profiles, "GET", "/api/v1/me/profile", headers)
    ok = call(profiles, "PATCH", "/api/v1/me/profile", {**headers, "if-unmodified-since": got.headers["last-modified"]},
              {"bio": "now"})
    assert ok.status == 200
    earlier = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    stale = call(profiles, "PATCH", "/api/v1/me/profile", {**headers, "if-unmodified-since": earlier}, {"bio": "late"})
    assert stale.status == 412 and stale.json["error"]["details"]["current"]["bio"] == "now"
