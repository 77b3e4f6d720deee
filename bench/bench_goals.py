"""Goals (issue 17), measured side by side in one run.

* ``GET /api/v1/me/goals`` through the real handler vs its one SQL statement issued directly (the
  framework + auth + serialisation overhead), for a user with 20 goals.
* The server-side execution time (``EXPLAIN ANALYZE``, rolled back) of the skill write statement
  changing a level on a skill *with* a goal vs one *without*: what the goal columns cost a write.

``python -m bench goals`` runs it alone.
"""

from __future__ import annotations

import copy
import statistics
import uuid
from typing import Any

from bench.bench_skills import ROUNDS, _event, _side_by_side

GOALS = 20


def _setup() -> tuple[dict[str, Any], str, uuid.UUID, uuid.UUID]:
    from shared.clients import db
    from shared.identity.tokens import issue_access_token
    from shared.repositories.skills import create_skill
    from shared.repositories.users import create_user

    conn = db.get_conn()
    name = f"bench_{uuid.uuid4().hex[:12]}"
    user = create_user(conn, username=name, email=f"{name}@bench.local", password_hash="!")  # noqa: S106 - cannot log in
    ids = [uuid.UUID(create_skill(conn, user["id"], name=f"Goal {i}", category="music", level=2,
                                  goal={"target_level": 10, "target_date": f"2030-01-{1 + i:02d}"}).entity["id"])
           for i in range(GOALS)]
    plain = uuid.UUID(create_skill(conn, user["id"], name="No goal", category="music", level=2).entity["id"])
    token, _ = issue_access_token(user["id"])
    return user, token, ids[0], plain


def run() -> list[tuple[str, str]]:
    from functions.skills.app import handler
    from local.lambda_context import LambdaContext
    from shared.clients import db
    from shared.repositories import goals, skills

    user, token, with_goal, without_goal = _setup()
    event = _event("event-get-skills", token, "/api/v1/me/goals")
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /api/v1/me/goals"
    params = {"owner_id": user["id"], "after_date": None, "after_id": None, "limit": 21}
    conn = db.get_conn()

    def via_handler(_: int) -> None:
        result = handler(copy.deepcopy(event), LambdaContext(function_name="skills"))  # a fresh time budget
        assert result["statusCode"] == 200, result

    def direct(_: int) -> None:
        conn.execute(goals.LIST_GOALS, params).fetchall()

    def write_ms() -> tuple[float, float]:
        """Server medians (ms) of the level write on the skill without / with a goal, interleaved."""
        times: dict[uuid.UUID, list[float]] = {without_goal: [], with_goal: []}
        for i in range(ROUNDS):
            for skill_id in times:
                write = {"owner_id": user["id"], "skill_id": skill_id, "note": None, "updated_at": None,
                         "guard": None, "set_description": False, "name": None, "category": None,
                         "description": None, "level": 3 + i % 2, "if_match": None, "attempt": None,
                         "record_conflict": False, "op_id": None, "source": "rest", "sid": None,
                         "set_goal": False, "goal_level": None, "goal_date": None, "goal_reached_at": None}
                with conn.transaction(force_rollback=True):
                    plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + skills.UPDATE_SKILL, write).fetchone()
                times[skill_id].append(plan["QUERY PLAN"][0]["Execution Time"])
        return statistics.median(times[without_goal]), statistics.median(times[with_goal])

    try:
        get_h, get_d = _side_by_side(via_handler, direct)
        plain_ms, goal_ms = write_ms()
    finally:
        conn.execute("DELETE FROM users WHERE id = %s", (user["id"],))
    return [
        (f"goals GET /me/goals ({GOALS} goals) via handler (median µs)", f"{get_h:.0f}"),
        ("goals GET /me/goals same SQL direct (median µs)", f"{get_d:.0f}"),
        ("goals GET handler/direct", f"{get_h / get_d:.2f}x"),
        ("goals level write, skill without goal (server median ms)", f"{plain_ms:.3f}"),
        ("goals level write, skill with goal (server median ms)", f"{goal_ms:.3f}"),
        ("goals with/without goal", f"{goal_ms / plain_ms:.2f}x"),
    ]
