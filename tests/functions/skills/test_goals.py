"""Goals (issue 17) through the skills function's real handler: set and clear them with the skill
writes, see them in ``GET /me/goals`` with statuses judged in the user's time zone, reach them."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from functions.skills.app import handler
from shared.clients import db
from shared.repositories import goals as goals_repo
from shared.repositories import skills as repo
from tests.support.skills import call, db_all, db_one, snapshot, sync_version

IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def add(headers, name="Piano", level=3, **extra):
    response = call(handler, "POST", "/api/v1/skills", headers, {"name": name, "category": "music", "level": level,
                                                                  **extra})
    assert response.status == 201, response
    return response.json


def patch(headers, skill_id, body, extra_headers=None):
    return call(handler, "PATCH", f"/api/v1/skills/{skill_id}", {**headers, **(extra_headers or {})}, body)


def goals(headers, **query):
    response = call(handler, "GET", "/api/v1/me/goals", headers, query=query)
    assert response.status == 200, response
    return response.json


def local_today(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


# --- validation: 422s that say what is wrong -----------------------------------------------------

@pytest.mark.parametrize(("goal", "field", "says"), [
    ({"target_level": 3, "target_date": IN_A_MONTH}, "body.goal", "target_level must be above the skill's level (3)"),
    ({"target_level": 2, "target_date": IN_A_MONTH}, "body.goal", "target_level must be above the skill's level (3)"),
    ({"target_level": 11, "target_date": IN_A_MONTH}, "body.goal.target_level", "less than or equal to 10"),
    ({"target_level": "7", "target_date": IN_A_MONTH}, "body.goal.target_level", "valid integer"),
    ({"target_level": 7, "target_date": "2027-01-01T00:00:00Z"}, "body.goal.target_date", "YYYY-MM-DD"),
    ({"target_level": 7, "target_date": 1798761600}, "body.goal.target_date", "YYYY-MM-DD"),
    ({"target_level": 7, "target_date": "2027-02-30"}, "body.goal.target_date", "valid date"),
    ({"target_level": 7}, "body.goal.target_date", "Field required"),
    ({"target_date": IN_A_MONTH}, "body.goal.target_level", "Field required"),
    ({"target_level": 7, "target_date": IN_A_MONTH, "reached_at": "2027-01-01T00:00:00Z"}, "body.goal.reached_at",
     "Extra inputs"),
])
def test_invalid_goals_are_422s_naming_the_field_and_change_nothing(alice, goal, field, says):
    user, headers = alice
    created = call(handler, "POST", "/api/v1/skills", headers, {"name": "Piano", "category": "music", "level": 3,
                                                                 "goal": goal})
    assert created.status == 422, created
    assert created.json["error"]["code"] == "validation_error"
    details = created.json["error"]["details"]
    assert any(d["field"] == field and says in d["message"] for d in details), details
    assert db_all("SELECT id FROM skills WHERE owner_id = %s", user["id"]) == []


def test_a_goal_at_or_below_the_stored_level_is_a_422_from_the_write_itself(alice):
    user, headers = alice
    skill = add(headers, level=6)
    before = snapshot(user["id"])
    for target in (6, 4):
        refused = patch(headers, skill["id"], {"goal": {"target_level": target, "target_date": IN_A_MONTH}})
        assert refused.status == 422, refused
        assert refused.json["error"]["details"] == [{
            "field": "body.goal.target_level", "type": "goal_not_above_level",
            "message": "must be above the skill's level (a goal at or below it is already met)"}]
    # also when the same PATCH lowers the target below a level it raises
    both = patch(headers, skill["id"], {"level": 8, "goal": {"target_level": 7, "target_date": IN_A_MONTH}})
    assert both.status == 422 and "above the skill's level (8)" in both.json["error"]["details"][0]["message"]
    assert both.json["error"]["details"][0]["field"] == "body.goal"
    assert snapshot(user["id"]) == before


# --- set and clear through POST and PATCH: ordinary skill writes ----------------------------------

def test_set_change_and_clear_a_goal_are_versioned_logged_skill_writes(alice):
    user, headers = alice
    skill = add(headers, level=3, goal={"target_level": 5, "target_date": "2030-06-01"})
    assert skill["goal"] == {"target_level": 5, "target_date": "2030-06-01", "reached_at": None}
    assert sync_version(user["id"]) == 1

    moved = patch(headers, skill["id"], {"goal": {"target_level": 6, "target_date": "2030-07-01"}},
                  {"if-match": call(handler, "GET", f"/api/v1/skills/{skill['id']}", headers).headers["etag"]})
    assert moved.status == 200, moved
    assert moved.json["goal"] == {"target_level": 6, "target_date": "2030-07-01", "reached_at": None}
    assert moved.headers["x-sync-version"] == "2"
    change = db_one("SELECT data FROM changes WHERE owner_id = %s AND version = 2", user["id"])
    assert change["data"] == moved.json  # the change log (and so the push) carries the goal

    same = patch(headers, skill["id"], {"goal": {"target_level": 6, "target_date": "2030-07-01"}})
    assert same.status == 200 and same.headers["x-sync-version"] == "2"  # a re-sent goal is a no-op
    untouched = patch(headers, skill["id"], {"name": "Grand piano"})
    assert untouched.json["goal"] == moved.json["goal"]  # omitted = kept

    cleared = patch(headers, skill["id"], {"goal": None})
    assert cleared.status == 200 and cleared.json["goal"] is None
    assert cleared.headers["x-sync-version"] == "4"
    assert db_all("SELECT previous_level FROM skill_progress WHERE skill_id = %s", skill["id"]) == [
        {"previous_level": None}]  # goal writes are not level changes: no history rows


def test_a_goal_change_against_a_stale_etag_is_a_412_and_keeps_the_goal(alice):
    user, headers = alice
    skill = add(headers, level=3)
    etag = call(handler, "GET", f"/api/v1/skills/{skill['id']}", headers).headers["etag"]
    assert patch(headers, skill["id"], {"goal": {"target_level": 5, "target_date": "2030-06-01"}},
                 {"if-match": etag}).status == 200
    stale = patch(headers, skill["id"], {"goal": None}, {"if-match": etag})  # the goal changed the ETag
    assert stale.status == 412, stale
    assert stale.json["error"]["details"]["current"]["goal"]["target_level"] == 5
    assert db_one("SELECT goal_level FROM skills WHERE owner_id = %s", user["id"])["goal_level"] == 5


def test_another_users_skill_cannot_get_a_goal_and_my_goals_are_mine(make_user):
    _, alice_headers = make_user("alice")
    bob, bob_headers = make_user("bob")
    skill = add(alice_headers, level=3, goal={"target_level": 9, "target_date": "2030-06-01"})
    before = snapshot(bob["id"])
    attempt = patch(bob_headers, skill["id"], {"goal": {"target_level": 4, "target_date": "2030-06-01"}})
    missing = patch(bob_headers, str(uuid.uuid4()), {"goal": {"target_level": 4, "target_date": "2030-06-01"}})
    assert attempt.status == missing.status == 404
    assert attempt.json["error"] == missing.json["error"]  # no oracle: someone else's = missing
    cleared = patch(bob_headers, skill["id"], {"goal": None})
    assert cleared.status == 404
    assert goals(bob_headers)["items"] == [] and snapshot(bob["id"]) == before
    assert goals(alice_headers)["items"][0]["target_level"] == 9
    stored = db_one("SELECT goal_level FROM skills WHERE id = %s", skill["id"])
    assert stored["goal_level"] == 9


def test_the_public_profile_shows_skills_without_goals(alice):
    from functions.profiles.app import handler as profiles

    _, headers = alice
    add(headers, level=3, goal={"target_level": 9, "target_date": "2030-06-01"})
    profile = call(profiles, "GET", "/api/v1/users/alice")
    assert profile.status == 200, profile
    assert [set(s) for s in profile.json["skills"]] == [
        {"id", "name", "category", "level", "description", "created_at", "updated_at"}]


# --- reaching a goal ------------------------------------------------------------------------------

def test_a_level_up_that_reaches_the_target_records_reached_at_from_the_history(alice):
    user, headers = alice
    skill = add(headers, level=3, goal={"target_level": 6, "target_date": "2030-06-01"})
    below = patch(headers, skill["id"], {"level": 5})
    assert below.json["goal"]["reached_at"] is None
    conn = db.get_conn()
    reach = repo.update_skill(conn, user["id"], uuid.UUID(skill["id"]), {"level": 7}, note="got there")
    assert reach.goal_reached
    row = db_one("SELECT created_at FROM skill_progress WHERE skill_id = %s AND new_level = 7", skill["id"])
    reached_at = reach.entity["goal"]["reached_at"]
    assert datetime.fromisoformat(reached_at) == row["created_at"]  # the reaching history row's time
    assert goals_repo.goals_reached_by(reach) == [
        {"skill_id": skill["id"], "target_level": 6, "target_date": "2030-06-01", "reached_at": reached_at}]

    again = repo.update_skill(conn, user["id"], uuid.UUID(skill["id"]), {"level": 4})  # down, and up again
    assert not again.goal_reached and goals_repo.goals_reached_by(again) == []
    back = repo.update_skill(conn, user["id"], uuid.UUID(skill["id"]), {"level": 9})
    assert goals_repo.goals_reached_by(back) == [] and back.entity["goal"]["reached_at"] == reached_at
    assert goals_repo.reached_count(conn, user["id"]) == 1
    listed = goals(headers)["items"]
    assert [(g["status"], g["reached_at"]) for g in listed] == [("reached", reached_at)]
    # a reached goal, re-sent as it is, stays reached; a new one must again be above the level
    assert patch(headers, skill["id"], {"goal": {"target_level": 6, "target_date": "2030-06-01"}}).json[
        "goal"]["reached_at"] == reached_at
    assert patch(headers, skill["id"], {"goal": {"target_level": 6, "target_date": "2031-06-01"}}).status == 422
    renewed = patch(headers, skill["id"], {"goal": {"target_level": 10, "target_date": "2031-06-01"}})
    assert renewed.json["goal"] == {"target_level": 10, "target_date": "2031-06-01", "reached_at": None}


def test_writes_that_change_no_level_never_reach_a_goal(alice):
    _, headers = alice
    skill = add(headers, level=3, goal={"target_level": 4, "target_date": "2030-06-01"})
    for body in ({"name": "Keys"}, {"description": "scales"}, {"category": "art"}):
        result = patch(headers, skill["id"], body)
        assert result.status == 200 and result.json["goal"]["reached_at"] is None


# --- GET /me/goals ----------------------------------------------------------------------------------

def test_statuses_are_judged_on_the_users_local_date(make_user):
    """Kiritimati (UTC+14) and Pago Pago (UTC-11) are always on different dates: a goal due on Pago
    Pago's today is due today there, and already overdue in Kiritimati."""
    users = {}
    for name, zone in (("east", "Pacific/Kiritimati"), ("west", "Pacific/Pago_Pago")):
        user, headers = make_user(name)
        db.get_conn().execute("UPDATE users SET timezone = %s WHERE id = %s", (zone, user["id"]))
        users[zone] = headers
    west_today = local_today("Pacific/Pago_Pago")
    for headers in users.values():
        for name, days in (("Due", 0), ("Soon", 6), ("Later", 7), ("Past", -1)):
            add(headers, name=name, level=3,
                goal={"target_level": 5, "target_date": (west_today + timedelta(days=days)).isoformat()})
    west, east = goals(users["Pacific/Pago_Pago"]), goals(users["Pacific/Kiritimati"])
    assert west["today"] == west_today.isoformat()
    assert east["today"] == local_today("Pacific/Kiritimati").isoformat() != west["today"]
    ahead = (date.fromisoformat(east["today"]) - west_today).days  # 1 or 2 days ahead
    assert [(g["skill_name"], g["status"], g["days_left"]) for g in west["items"]] == [
        ("Past", "overdue", -1), ("Due", "due_soon", 0), ("Soon", "due_soon", 6), ("Later", "open", 7)]
    assert [(g["skill_name"], g["days_left"]) for g in east["items"]] == [
        ("Past", -1 - ahead), ("Due", -ahead), ("Soon", 6 - ahead), ("Later", 7 - ahead)]
    assert [g["status"] for g in east["items"]][:2] == ["overdue", "overdue"]
    assert east["items"][3]["status"] == "due_soon"


def test_goals_page_by_target_date_and_skip_skills_without_goals(alice, sql_counter):
    _, headers = alice
    for i in range(5):
        add(headers, name=f"G{i}", level=2, goal={"target_level": 3, "target_date": f"2030-0{5 - i}-01"})
    add(headers, name="No goal", level=2)
    sql_counter.reset()
    first = goals(headers, limit=2)
    assert sql_counter.count == 1, sql_counter.statements  # one statement per page
    seen, cursor = [g["skill_name"] for g in first["items"]], first["next_cursor"]
    while cursor:
        page = goals(headers, limit=2, cursor=cursor)
        seen += [g["skill_name"] for g in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ["G4", "G3", "G2", "G1", "G0"]
    bad = call(handler, "GET", "/api/v1/me/goals", headers, query={"cursor": "bm9wZQ"})
    assert bad.status == 422 and bad.json["error"]["details"][0]["field"] == "query.cursor"


def test_goals_need_a_token(alice):
    assert call(handler, "GET", "/api/v1/me/goals").status == 401
