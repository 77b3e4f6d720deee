"""Warm per-request cost of the skills function vs the bare work it does, measured side by side.

For ``GET /api/v1/skills`` and ``PATCH /api/v1/skills/{id}``: the real handler (Mangum → FastAPI →
auth → repository → after_write) against the same SQL statement and the same Redis command issued
directly on the same connections. Iterations alternate handler/direct so drift hits both equally;
medians are reported, with the ratio handler/direct (the framework + auth + serialisation overhead).

Assumes the local stack's environment (DATABASE_URL, Upstash bridge, JWT keys) is set and migrated,
as ``bench/__main__.py`` arranges; ``python -m bench skills`` runs it alone.
"""

from __future__ import annotations

import copy
import json
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 300
WARMUP = 30
SKILLS = 20


def _event(name: str, token: str, path: str | None = None, body: Any = None) -> dict[str, Any]:
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())
    event["headers"]["authorization"] = f"Bearer {token}"
    if path:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["content-length"] = str(len(event["body"]))
    return event


def _median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000


def _side_by_side(via_handler: Callable[[int], None], direct: Callable[[int], None]) -> tuple[float, float]:
    for i in range(WARMUP):
        via_handler(i)
        direct(i)
    handler_ns, direct_ns = [], []
    for i in range(ROUNDS):
        start = time.perf_counter_ns()
        via_handler(i)
        handler_ns.append(time.perf_counter_ns() - start)
        start = time.perf_counter_ns()
        direct(i)
        direct_ns.append(time.perf_counter_ns() - start)
    return _median_us(handler_ns), _median_us(direct_ns)


def _setup() -> tuple[dict[str, Any], str, uuid.UUID]:
    from shared.clients import db
    from shared.identity.tokens import issue_access_token
    from shared.repositories.skills import create_skill
    from shared.repositories.users import create_user

    conn = db.get_conn()
    name = f"bench_{uuid.uuid4().hex[:12]}"
    user = create_user(conn, username=name, email=f"{name}@bench.local", password_hash="!")  # noqa: S106 - no valid hash: cannot log in
    first = None
    for i in range(SKILLS):
        result = create_skill(conn, user["id"], name=f"Skill {i}", category="programming" if i % 2 else "music",
                              level=1 + i % 10)
        first = first or uuid.UUID(result.entity["id"])
    token, _ = issue_access_token(user["id"])
    assert first is not None
    return user, token, first


def run() -> list[tuple[str, str]]:
    from functions.skills.app import handler
    from local.lambda_context import LambdaContext
    from shared.clients import db
    from shared.clients.redis import get_redis
    from shared.public import cache as public_cache
    from shared.repositories import skills

    user, token, skill_id = _setup()
    list_event = _event("event-get-skills", token)
    list_params = {"owner_id": user["id"], "category": "programming", "after_value": None, "after_id": None,
                   "limit": 21}
    patch_path = f"/api/v1/skills/{skill_id}"

    def get_via_handler(_: int) -> None:
        # a fresh time budget per invocation, as in Lambda (one shared 10 s context ran out mid-run)
        assert handler(copy.deepcopy(list_event), LambdaContext(function_name="skills"))["statusCode"] == 200

    def get_direct(_: int) -> None:
        db.get_conn().execute(skills.LIST_SKILLS["-level"], list_params).fetchall()

    def patch_via_handler(i: int) -> None:
        event = _event("event-patch-skill", token, patch_path, {"level": 2 + i % 2, "note": "bench"})
        assert handler(event, LambdaContext(function_name="skills"))["statusCode"] == 200

    def patch_direct(i: int) -> None:  # the same statement and the same Redis DEL that after_write sends
        params = {"owner_id": user["id"], "skill_id": skill_id, "note": "bench", "updated_at": None, "guard": None,
                  "set_description": False, "name": None, "category": None, "description": None,
                  "level": 4 + i % 2, "if_match": None, "attempt": None, "record_conflict": False,
                  "op_id": None, "source": "rest", "sid": None,
                  "set_goal": False, "goal_level": None, "goal_date": None, "goal_reached_at": None}  # issue 17
        db.get_conn().execute(skills.UPDATE_SKILL, params).fetchone()
        get_redis().delete(*public_cache.keys_for(user["username"]))

    try:
        get_h, get_d = _side_by_side(get_via_handler, get_direct)
        patch_h, patch_d = _side_by_side(patch_via_handler, patch_direct)
    finally:
        db.get_conn().execute("DELETE FROM users WHERE id = %s", (user["id"],))
    return [
        ("skills GET /skills via handler (median µs)", f"{get_h:.0f}"),
        ("skills GET /skills same SQL direct (median µs)", f"{get_d:.0f}"),
        ("skills GET handler/direct", f"{get_h / get_d:.2f}x"),
        ("skills PATCH /skills/{id} via handler (median µs)", f"{patch_h:.0f}"),
        ("skills PATCH same SQL + Redis DEL direct (median µs)", f"{patch_d:.0f}"),
        ("skills PATCH handler/direct", f"{patch_h / patch_d:.2f}x"),
    ]
