"""What issue 13's guarantees cost a write: ``PATCH /api/v1/skills/{id}`` through the real handler,
plain, with ``If-Match`` (the ETag recomputed in SQL), with a ``sid`` token (the live-sign-in probe
inside the statement) and with a fresh ``Idempotency-Key`` (claim + store: two more statements); and
the bare UPDATE statement with and without the sign-in probe, also as the server's own execution time
(``EXPLAIN ANALYZE``, inside a rolled-back transaction), which a busy client machine does not blur.
Medians over interleaved rounds.
``python -m bench sync_trust`` runs it alone.
"""

from __future__ import annotations

import copy
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.bench_skills import _event, _setup

ROUNDS = 200
WARMUP = 20


def _medians(cases: dict[str, Callable[[int], None]]) -> dict[str, float]:
    for i in range(WARMUP):
        for case in cases.values():
            case(i)
    samples: dict[str, list[int]] = {name: [] for name in cases}
    for i in range(ROUNDS):
        for name, case in cases.items():
            start = time.perf_counter_ns()
            case(i)
            samples[name].append(time.perf_counter_ns() - start)
    return {name: statistics.median(ns) / 1000 for name, ns in samples.items()}


def run() -> list[tuple[str, str]]:
    from functions.skills.app import handler
    from local.lambda_context import LambdaContext
    from shared.clients import db
    from shared.identity.tokens import issue_access_token
    from shared.repositories import refresh_tokens, skills

    user, token, skill_id = _setup()
    conn = db.get_conn()
    family = refresh_tokens.create_family(conn, user_id=user["id"], token_hash=uuid.uuid4().bytes * 2, idle_s=3600)
    sid_token, _ = issue_access_token(user["id"], family)
    path = f"/api/v1/skills/{skill_id}"
    etag: dict[str, str] = {}

    def patch(tok: str, i: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
        event = _event("event-patch-skill", tok, path, {"level": 2 + i % 2, "note": "bench"})
        event["headers"].update(headers or {})
        result = handler(copy.deepcopy(event), LambdaContext(function_name="skills"))  # a fresh time budget
        assert result["statusCode"] == 200, result
        etag["current"] = result["headers"]["etag"]
        return result

    def params(i: int, sid: uuid.UUID | None, if_match: list[str] | None = None) -> dict[str, Any]:
        return {"owner_id": user["id"], "skill_id": skill_id, "note": "bench", "updated_at": None,
                "guard": None, "set_description": False, "name": None, "category": None,
                "description": None, "level": 4 + i % 2, "if_match": if_match, "attempt": None,
                "record_conflict": False, "op_id": None, "source": "rest", "sid": sid,
                "set_goal": False, "goal_level": None, "goal_date": None, "goal_reached_at": None}  # issue 17

    def statement(sid: uuid.UUID | None) -> Callable[[int], None]:
        def run_once(i: int) -> None:
            conn.execute(skills.UPDATE_SKILL, params(i, sid)).fetchone()
        return run_once

    def server_ms(sid: uuid.UUID | None, if_match: bool = False) -> float:
        times = []
        for i in range(ROUNDS):
            current = conn.execute(skills.GET_SKILL, {"owner_id": user["id"], "skill_id": skill_id}).fetchone()
            tags = [entity_etag(current["item"])] if if_match else None
            with conn.transaction(force_rollback=True):
                plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + skills.UPDATE_SKILL,
                                    params(i + 1, sid, tags)).fetchone()
            times.append(plan["QUERY PLAN"][0]["Execution Time"])
        return statistics.median(times)

    from shared.http.preconditions import entity_etag

    try:
        server = {"plain": server_ms(None), "sid": server_ms(family), "if-match": server_ms(None, True)}
        patch(token, 0)
        medians = _medians({
            "plain": lambda i: patch(token, i),
            "if-match": lambda i: patch(token, i, {"if-match": etag["current"]}),
            "sid": lambda i: patch(sid_token, i),
            "idempotency-key": lambda i: patch(token, i, {"idempotency-key": f"k{i}-{uuid.uuid4().hex[:8]}"}),
            "sql": statement(None),
            "sql+sid": statement(family),
        })
    finally:
        conn.execute("DELETE FROM users WHERE id = %s", (user["id"],))
    return [
        ("PATCH /skills/{id} via handler, plain (median µs)", f"{medians['plain']:.0f}"),
        ("  with If-Match (ETag checked in the statement)", f"{medians['if-match']:.0f}"),
        ("  with a sid token (live sign-in probe in the statement)", f"{medians['sid']:.0f}"),
        ("  with a fresh Idempotency-Key (claim + store)", f"{medians['idempotency-key']:.0f}"),
        ("UPDATE statement alone (median µs)", f"{medians['sql']:.0f}"),
        ("UPDATE statement with the sign-in probe (median µs)", f"{medians['sql+sid']:.0f}"),
        ("UPDATE server execution, plain (median ms)", f"{server['plain']:.3f}"),
        ("UPDATE server execution, sign-in probe (median ms)", f"{server['sid']:.3f}"),
        ("UPDATE server execution, If-Match ETag (median ms)", f"{server['if-match']:.3f}"),
    ]
