"""Goals leave with the data (issue 17): ``GET /me/export`` carries each skill's goal and
``POST /me/import`` restores it, open or reached (with its reached_at), without a replayed level
reaching a goal that was set after it."""

from __future__ import annotations

import copy
import json

from functions.auth.app import handler
from functions.skills.app import handler as skills_handler
from shared.clients import db
from tests.functions.auth.test_app import bearer, register
from tests.functions.auth.test_export import comparable, export, sync_snapshot
from tests.support import http_event, invoke
from tests.support.skills import call


def write(pair: dict, method: str, path: str, body: dict) -> dict:
    response = call(skills_handler, method, path, bearer(pair), body)
    assert response.status in (200, 201), response
    return response.json


def goals_of(pair: dict) -> list[dict]:
    response = call(skills_handler, "GET", "/api/v1/me/goals", bearer(pair))
    assert response.status == 200, response
    return [{k: v for k, v in g.items() if k != "skill_id"} for g in response.json["items"]]


def seed_goals(pair: dict) -> None:
    # Piano: reached (3 → 6 with a goal of 5), then back down to 4: a reached goal above the level
    piano = write(pair, "POST", "/api/v1/skills", {"name": "Piano", "category": "music", "level": 3,
                                                   "goal": {"target_level": 5, "target_date": "2030-01-31"}})
    write(pair, "PATCH", f"/api/v1/skills/{piano['id']}", {"level": 6})
    write(pair, "PATCH", f"/api/v1/skills/{piano['id']}", {"level": 4})
    # Chess: 3 → 8 → 4, and only then a goal of 6: replaying 3 → 8 after setting it would "reach" it
    chess = write(pair, "POST", "/api/v1/skills", {"name": "Chess", "category": "mind", "level": 3})
    write(pair, "PATCH", f"/api/v1/skills/{chess['id']}", {"level": 8})
    write(pair, "PATCH", f"/api/v1/skills/{chess['id']}", {"level": 4})
    write(pair, "PATCH", f"/api/v1/skills/{chess['id']}", {"goal": {"target_level": 6, "target_date": "2030-03-01"}})
    write(pair, "POST", "/api/v1/skills", {"name": "Go", "category": "mind", "level": 2})  # no goal


def test_goals_round_trip_through_export_and_import():
    source = register("source")
    seed_goals(source)
    document = json.loads(export(source).body)
    assert {s["name"]: s["goal"] for s in document["skills"]}["Chess"] == {
        "target_level": 6, "target_date": "2030-03-01", "reached_at": None}
    target = register("target")
    response = invoke(handler, http_event("POST", "/api/v1/me/import", body=document, headers=bearer(target)))
    assert response.status == 200 and response.json["imported"] is True, response
    assert goals_of(target) == goals_of(source)
    imported = goals_of(target)
    assert [(g["skill_name"], g["status"], g["level"]) for g in imported] == [("Piano", "reached", 4),
                                                                           ("Chess", "open", 4)]
    assert imported[0]["reached_at"] is not None and imported[1]["reached_at"] is None
    assert comparable(sync_snapshot(target)) == comparable(sync_snapshot(source))  # goals and reached_at alike
    again = invoke(handler, http_event("POST", "/api/v1/me/import", body=document, headers=bearer(target)))
    assert again.status == 200 and again.json["imported"] is False


def test_an_import_with_an_open_goal_at_or_below_its_level_is_a_422_and_imports_nothing():
    source = register("source")
    seed_goals(source)
    document = json.loads(export(source).body)
    broken = copy.deepcopy(document)
    chess = next(s for s in broken["skills"] if s["name"] == "Chess")
    chess["goal"]["target_level"] = 4  # the skill ends at level 4: an open goal there is already met
    target = register("target")
    response = invoke(handler, http_event("POST", "/api/v1/me/import", body=broken, headers=bearer(target)))
    index = broken["skills"].index(chess)
    assert response.status == 422, response
    assert response.json["error"]["details"][0]["field"] == f"body.skills.{index}.goal.target_level"
    assert "must be above the skill's level" in response.json["error"]["details"][0]["message"]
    assert db.get_conn().execute("SELECT count(*) AS n FROM skills WHERE owner_id = %s",
                                 (target["user"]["id"],)).fetchone()["n"] == 0
