"""The demo seed goes through the real skill write path, with valid categories, and runs once."""

from __future__ import annotations

from local.seed import DEMO_SKILLS, DEMO_USERNAME, seed
from shared import db
from shared.categories import CATEGORIES
from tests.skill_support import db_all, db_one


def test_seed_creates_demo_skills_with_history_and_change_log_once():
    assert seed(db.get_conn()) is True
    assert seed(db.get_conn()) is False
    user = db_one("SELECT id, sync_version FROM users WHERE username = %s", DEMO_USERNAME)
    skills = db_all("SELECT category FROM skills WHERE owner_id = %s", user["id"])
    assert len(skills) == len(DEMO_SKILLS) and {s["category"] for s in skills} <= set(CATEGORIES)
    assert user["sync_version"] == len(DEMO_SKILLS)
    assert len(db_all("SELECT 1 FROM skill_progress WHERE owner_id = %s", user["id"])) == len(DEMO_SKILLS)
