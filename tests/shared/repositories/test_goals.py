"""Migration 016's invariants hold for every writer of ``skills``, not only the repository's
statements: a goal is whole, only a goal can be reached, and an open goal is above the level."""

from __future__ import annotations

import psycopg
import pytest

from shared.clients import db
from shared.repositories import skills


@pytest.mark.parametrize(("goal", "assignment", "constraint"), [
    (None, "goal_level = 5", "skills_goal_whole"),
    (None, "goal_date = date '2030-01-01'", "skills_goal_whole"),
    (None, "goal_reached_at = now()", "skills_goal_whole"),
    (None, "goal_level = 1, goal_date = date '2030-01-01', goal_reached_at = now()", "skills_goal_level_range"),
    (None, "goal_level = 3, goal_date = date '2030-01-01'", "skills_goal_above_level"),
    (8, "level = 9", "skills_goal_above_level"),  # past an open goal without stamping it reached
])
def test_the_schema_refuses_an_inconsistent_goal(make_user, goal, assignment, constraint):
    user, _ = make_user("alice")
    conn = db.get_conn()
    skill = skills.create_skill(conn, user["id"], name="Go", category="mind", level=3,
                                goal=goal and {"target_level": goal, "target_date": "2030-01-01"}).entity
    with pytest.raises(psycopg.errors.CheckViolation, match=constraint):
        conn.execute(f"UPDATE skills SET {assignment} WHERE id = %s", (skill["id"],))
