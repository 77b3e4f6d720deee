"""The demo seed: the real write paths (users repository, skill writes), valid categories, once."""

from __future__ import annotations

from functions.auth.app import handler
from local.seed import DEMO_PASSWORD, DEMO_SKILLS, DEMO_USERNAME, seed
from shared.clients import db
from shared.models.categories import CATEGORIES
from tests.support import http_event, invoke
from tests.support.skills import db_all, db_one


def test_seed_creates_demo_skills_with_history_and_change_log_once():
    assert seed(db.get_conn()) is True
    assert seed(db.get_conn()) is False
    user = db_one("SELECT id, sync_version, bio FROM users WHERE username = %s", DEMO_USERNAME)
    skills = db_all("SELECT category FROM skills WHERE owner_id = %s", user["id"])
    assert len(skills) == len(DEMO_SKILLS) and {s["category"] for s in skills} <= set(CATEGORIES)
    assert user["sync_version"] == len(DEMO_SKILLS) and user["bio"]
    assert len(db_all("SELECT 1 FROM skill_progress WHERE owner_id = %s", user["id"])) == len(DEMO_SKILLS)


def test_the_demo_user_can_sign_in():
    seed(db.get_conn())
    response = invoke(handler, http_event("POST", "/api/v1/auth/login",
                                          body={"username": DEMO_USERNAME, "password": DEMO_PASSWORD}))
    assert response.status == 200, response
