"""Growth over time through the profiles function's real handler (issue 17): GET /me/stats?at= and
GET /me/stats/series, replayed from skill_progress (superseded levels left out), in the user's timezone."""

from __future__ import annotations

import json
from datetime import date

import pytest

from functions.profiles.app import handler
from functions.skills.app import handler as skills_handler
from shared.models.categories import CATEGORIES
from tests.support.skills import call, db_one


def add(headers, name, category, level):
    response = call(skills_handler, "POST", "/api/v1/skills", headers, {"name": name, "category": category,
                                                                         "level": level})
    assert response.status == 201, response
    return response.json


def level_up(headers, skill, level):
    response = call(skills_handler, "PATCH", f"/api/v1/skills/{skill['id']}", headers, {"level": level})
    assert response.status == 200, response


def backdate_last_change(skill, at: str):
    """The write went through the real handler just now; move its history row to ``at``."""
    db_one("UPDATE skill_progress SET created_at = %s WHERE id = (SELECT max(id) FROM skill_progress"
           " WHERE skill_id = %s) RETURNING id", at, skill["id"])


@pytest.fixture
def alice(make_user):
    """Python 3 (Mon 5 Jan 2026), 5 (Wed 14 Jan), a losing 10 (Thu 15 Jan, superseded), 8 (Mon 2 Feb);
    Guitar 2 (Tue 20 Jan). All instants UTC; alice's timezone is UTC unless a test changes it."""
    from shared.clients import db
    from shared.repositories import operations

    user, headers = make_user("alice")
    python = add(headers, "Python", "programming", 3)
    backdate_last_change(python, "2026-01-05T10:00:00Z")
    level_up(headers, python, 5)
    backdate_last_change(python, "2026-01-14T10:00:00Z")
    operations.keep_superseded_level(db.get_conn(), user["id"], python["id"], 10, "lost a conflict")
    backdate_last_change(python, "2026-01-15T10:00:00Z")
    guitar = add(headers, "Guitar", "music", 2)
    backdate_last_change(guitar, "2026-01-20T10:00:00Z")
    level_up(headers, python, 8)
    backdate_last_change(python, "2026-02-02T10:00:00Z")
    return user, headers


def stats_at(headers, at):
    response = call(handler, "GET", "/api/v1/me/stats", headers, query={"at": at})
    assert response.status == 200, response
    return response.json


def by_category(stats):
    return {c["category"]: c["total_level"] for c in stats["categories"] if c["skill_count"]}


def test_the_sheet_as_it_was_on_a_date(alice, sql_counter):
    _, headers = alice
    before = stats_at(headers, "2026-01-04")
    assert (before["total_level"], before["skill_count"], before["character_level"]) == (0, 0, 1)
    assert by_category(stats_at(headers, "2026-01-05")) == {"programming": 3}
    mid = stats_at(headers, "2026-01-15")
    assert by_category(mid) == {"programming": 5}  # the superseded 10 of that day never counted
    assert mid["categories"][0]["max_level"] == 5 and mid["radar"]["values"][0] == 5
    sql_counter.reset()
    later = stats_at(headers, "2026-01-20")
    assert sql_counter.count == 1
    assert by_category(later) == {"programming": 5, "music": 2} and later["character_level"] == 3
    assert set(later) == {"total_level", "skill_count", "character_level", "next_level_at", "categories", "radar"}


def test_replaying_the_history_up_to_today_gives_the_live_sheet(alice):
    _, headers = alice
    live = call(handler, "GET", "/api/v1/me/stats", headers)
    replayed = call(handler, "GET", "/api/v1/me/stats", headers, query={"at": date.today().isoformat()})
    assert replayed.json == live.json and by_category(live.json) == {"programming": 8, "music": 2}
    assert replayed.headers["x-sync-version"] == live.headers["x-sync-version"]
    assert replayed.headers["cache-control"].startswith("private")


def test_weekly_series_of_total_level_per_category(alice):
    _, headers = alice
    response = call(handler, "GET", "/api/v1/me/stats/series", headers,
                    query={"from": "2026-01-07", "to": "2026-02-03"})  # a Wednesday to a Tuesday
    assert response.status == 200, response
    body = response.json
    assert body["timezone"] == "UTC"
    weeks = [(w["week_start"], w["week_end"], w["total_level"], w["by_category"]["programming"],
              w["by_category"]["music"]) for w in body["weeks"]]
    assert weeks == [("2026-01-05", "2026-01-11", 3, 3, 0), ("2026-01-12", "2026-01-18", 5, 5, 0),
                     ("2026-01-19", "2026-01-25", 7, 5, 2), ("2026-01-26", "2026-02-01", 7, 5, 2),
                     ("2026-02-02", "2026-02-08", 10, 8, 2)]
    assert list(body["weeks"][0]["by_category"]) == list(CATEGORIES)
    assert [w["character_level"] for w in body["weeks"]] == [2, 3, 3, 3, 4]


def test_weeks_and_days_are_the_users_own(alice):
    """Jakarta is UTC+7: Sunday 11 Jan 2026 20:00 UTC is already Monday 12 Jan there."""
    user, headers = alice
    assert call(handler, "PATCH", "/api/v1/me/profile", headers, {"timezone": "Asia/Jakarta"}).status == 200
    python_id = db_one("SELECT id FROM skills WHERE owner_id = %s AND name = 'Python'", user["id"])["id"]
    backdate_last_change({"id": python_id}, "2026-02-08T20:00:00Z")  # the level 8: Monday 9 Feb, 03:00 local
    assert by_category(stats_at(headers, "2026-02-08")) == {"programming": 5, "music": 2}
    assert by_category(stats_at(headers, "2026-02-09")) == {"programming": 8, "music": 2}
    series = call(handler, "GET", "/api/v1/me/stats/series", headers,
                  query={"from": "2026-02-02", "to": "2026-02-09"}).json
    assert series["timezone"] == "Asia/Jakarta"
    assert [(w["week_start"], w["total_level"]) for w in series["weeks"]] == [("2026-02-02", 7), ("2026-02-09", 10)]


def test_other_users_history_is_not_mine(alice, make_user):
    _, bob_headers = make_user("bob")
    add(bob_headers, "Piano", "music", 9)
    assert by_category(stats_at(bob_headers, date.today().isoformat())) == {"music": 9}
    series = call(handler, "GET", "/api/v1/me/stats/series", bob_headers,
                  query={"from": "2026-01-05", "to": "2026-01-11"}).json
    assert series["weeks"][0]["total_level"] == 0


@pytest.mark.parametrize("path,query,field", [
    ("/api/v1/me/stats", {"at": "yesterday"}, "query.at"),
    ("/api/v1/me/stats", {"at": "1999-12-31"}, "query.at"),
    ("/api/v1/me/stats/series", {"to": "2026-01-01"}, "query.from"),
    ("/api/v1/me/stats/series", {"from": "2026-01-02", "to": "2026-01-01"}, "query.to"),
    ("/api/v1/me/stats/series", {"from": "2020-01-01", "to": "2026-01-01"}, "query.from"),
    ("/api/v1/me/stats/series", {"from": "2026-01-01", "to": "3000-01-01"}, "query.to"),
])
def test_bad_dates_and_ranges_are_422_naming_the_field(alice, path, query, field):
    _, headers = alice
    response = call(handler, "GET", path, headers, query=query)
    assert response.status == 422, response
    assert response.json["error"]["details"][0]["field"] == field


def test_the_longest_series_is_served(alice):
    _, headers = alice
    response = call(handler, "GET", "/api/v1/me/stats/series", headers,
                    query={"from": "2024-01-01", "to": "2026-12-27"})  # Monday to Sunday: exactly 156 weeks
    assert response.status == 200 and len(response.json["weeks"]) == 156


def test_anonymous_callers_get_401():
    assert call(handler, "GET", "/api/v1/me/stats", query={"at": "2026-01-01"}).status == 401
    query = {"from": "2026-01-01", "to": "2026-01-02"}
    assert call(handler, "GET", "/api/v1/me/stats/series", query=query).status == 401


def test_the_history_read_is_one_users_rows_by_index(alice, make_user):
    """EXPLAIN with 20 000 history rows of another user, ANALYZEd, the planner left free: the read
    goes through skill_progress_owner_idx, never a scan of the whole table."""
    from shared.clients import db
    from shared.repositories import history

    user, _ = alice
    other, other_headers = make_user("bob")
    piano = add(other_headers, "Piano", "music", 1)
    conn = db.get_conn()
    conn.execute("""INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, created_at)
                    SELECT %s, %s, 1, 1 + g %% 10, now() - g * interval '1 minute'
                    FROM generate_series(1, 20000) AS g""", (piano["id"], other["id"]))
    conn.execute("ANALYZE skill_progress")
    params = {"owner_id": user["id"], "first": date(2026, 1, 1), "last": date(2026, 3, 1), "weekly": True}
    plan = conn.execute("EXPLAIN (FORMAT JSON) " + history.HISTORY, params).fetchone()["QUERY PLAN"][0]["Plan"]
    nodes = list(plan_nodes(plan))
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "skill_progress"]
    assert "skill_progress_owner_idx" in {n.get("Index Name") for n in nodes}, json.dumps(plan)


def plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)
