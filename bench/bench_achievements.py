"""What awarding costs a skill write: the level-change statement with and without the achievement
CTEs (issue 17), side by side on the same connection, for a user with a long history.

Evaluating the rules reads the user's own skills and level history (O(that user)); this shows what
that adds to a write for a heavy user (SKILLS skills, HISTORY level changes). Iterations alternate,
medians reported with the ratio. ``python -m bench achievements`` runs it alone.
"""

from __future__ import annotations

import statistics
import time
import uuid

ROUNDS = 300
WARMUP = 30
SKILLS = 30
HISTORY = 1000


def run() -> list[tuple[str, str]]:
    from shared.clients import db
    from shared.repositories import skills
    from shared.repositories.achievements import rule_params
    from shared.repositories.users import create_user

    conn = db.get_conn()
    name = f"bench_{uuid.uuid4().hex[:12]}"
    user = create_user(conn, username=name, email=f"{name}@bench.local", password_hash="!")  # noqa: S106 - cannot log in
    ids = [uuid.UUID(skills.create_skill(conn, user["id"], name=f"Skill {i}", category="music", level=1,
                                         award=True).entity["id"]) for i in range(SKILLS)]
    for i in range(HISTORY - SKILLS):
        skills.update_skill(conn, user["id"], ids[i % SKILLS], {"level": 2 + i % 3})
    base = {"owner_id": user["id"], "note": "bench", "updated_at": None, "guard": None, "set_description": False,
            "name": None, "category": None, "description": None, "if_match": None, "attempt": None,
            "record_conflict": False, "op_id": None, "source": "rest", "sid": None}

    def write(statement: str, i: int, extra: dict) -> None:
        params = {**base, **extra, "skill_id": ids[i % SKILLS], "level": 5 + i % 2}
        conn.execute(statement, params).fetchone()

    plain_ns, awarding_ns = [], []
    try:
        for i in range(WARMUP + ROUNDS):
            start = time.perf_counter_ns()
            write(skills.UPDATE_SKILL, i, {})
            plain = time.perf_counter_ns() - start
            start = time.perf_counter_ns()
            write(skills.UPDATE_SKILL_AWARDING, i + 1, rule_params())
            awarding = time.perf_counter_ns() - start
            if i >= WARMUP:
                plain_ns.append(plain)
                awarding_ns.append(awarding)
    finally:
        conn.execute("DELETE FROM users WHERE id = %s", (user["id"],))
    plain_us, awarding_us = statistics.median(plain_ns) / 1000, statistics.median(awarding_ns) / 1000
    return [
        (f"level change, plain statement (median µs; {SKILLS} skills, {HISTORY} history rows)", f"{plain_us:.0f}"),
        ("level change with the achievement CTEs (median µs)", f"{awarding_us:.0f}"),
        ("awarding/plain", f"{awarding_us / plain_us:.2f}x"),
    ]
