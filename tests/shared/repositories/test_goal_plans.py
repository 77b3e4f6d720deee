"""Goal statements are O(that user) (issue 17): on the scale benchmark's 10,000 users x 8 skills,
with a goal on a quarter of all skills, ``GET /me/goals`` and the digest's goal probes read
``skills_goals_idx`` from the user, never the table (plans from ``EXPLAIN (FORMAT JSON)``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.scale_seed import seed
from shared.clients import db
from shared.repositories import digests, goals
from tests.shared.repositories.test_plans import USERS, explain, seq_scans

MONDAY_8_UTC = datetime(2026, 11, 30, 8, tzinfo=UTC)


@pytest.fixture
def seeded_with_goals() -> None:
    with db.read_timeout(db.get_conn(), None) as conn:  # a load: no request deadline
        seed(conn, USERS)
        conn.execute("UPDATE skills SET goal_level = 10, goal_date = date '2026-12-01' + (hashtext(id::text) % 60)"
                     " WHERE level < 10 AND hashtext(id::text) % 4 = 0")
        conn.execute("ANALYZE skills")


def test_goal_reads_start_at_the_user(seeded_with_goals):
    conn = db.get_conn()
    with_goals = conn.execute("SELECT count(*) AS n FROM skills WHERE goal_level IS NOT NULL").fetchone()["n"]
    assert with_goals > USERS  # thousands of goals across the table
    owner = conn.execute("SELECT owner_id FROM skills WHERE goal_level IS NOT NULL LIMIT 1").fetchone()["owner_id"]
    for after in ((None, None), ("2026-12-20", owner)):
        plan = explain(goals.LIST_GOALS, {"owner_id": owner, "after_date": after[0], "after_id": after[1],
                                          "limit": 21})
        assert not seq_scans(plan), plan
        assert "skills_goals_idx" in [index for _, _, index in plan], plan  # an index or bitmap scan of it

    zones = [z["name"] for z in digests.due_zones(conn, MONDAY_8_UTC, 8)]
    plan = explain(digests.DUE_USERS_PAGE, {
        "zones": zones, "after_tz": "", "after_id": digests.FIRST_ID, "first_id": digests.FIRST_ID,
        "since": MONDAY_8_UTC - timedelta(days=7), "until": MONDAY_8_UTC, "limit": 1000})
    assert not seq_scans(plan), plan
    assert any(index == "skills_goals_idx" for _, _, index in plan), plan  # the goal probe, per user
    users = [r["id"] for r in conn.execute("SELECT id FROM users ORDER BY id LIMIT 100").fetchall()]
    plan = explain(digests.COMPUTE_AND_CLAIM, {
        "user_ids": users, "iso_year": 2026, "iso_week": 49, "since": MONDAY_8_UTC - timedelta(days=7),
        "until": MONDAY_8_UTC, "lease_s": 900, "top": 3})
    # both goal CTEs (due, reached) probe the goals index for the page's users. (The statement's older
    # CTEs, new skills and top categories, may seq-scan skills at this size: not asserted here.)
    assert [i for kind, _, i in plan if i == "skills_goals_idx" and kind == "Index Scan"] == ["skills_goals_idx"] * 2, \
        plan
