"""The statements that must not grow with the user count read indexes, not tables (issue 14).

The store is seeded by the scale benchmark's own generator with 10,000 users x 8 skills x 5 history
rows (+ 3 refresh tokens each) and ANALYZEd, and ``enable_seqscan`` stays ON: at this size a
sequential scan is what the planner picks whenever a statement has no usable index path (the old
leaderboard aggregated all of ``skills``; the old planner page hashed all of this week's skills; the
old purge hash-joined every token), so a plan without one is the planner's real choice. The plans
are read from ``EXPLAIN (FORMAT JSON)``; writes are explained, not run.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.scale_seed import seed
from shared.clients import db
from shared.ops import maintenance
from shared.repositories import digests, profiles, refresh_tokens, sync

USERS = 10_000
BIG_TABLES = {"users", "skills", "skill_progress", "skill_scores", "refresh_tokens", "refresh_families"}
MONDAY_8_UTC = datetime(2026, 11, 30, 8, tzinfo=UTC)


def nodes(plan: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """Every (node type, relation, index) in an EXPLAIN (FORMAT JSON) plan."""
    found = [(plan["Node Type"], plan.get("Relation Name"), plan.get("Index Name"))]
    for child in plan.get("Plans", []):
        found += nodes(child)
    return found


def explain(statement: str, params: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    row = db.get_conn().execute("EXPLAIN (FORMAT JSON) " + statement, params).fetchone()
    return nodes(row["QUERY PLAN"][0]["Plan"])


def seq_scans(plan: list[tuple[str, str | None, str | None]]) -> list[str | None]:
    return [relation for kind, relation, _ in plan if kind == "Seq Scan" and relation in BIG_TABLES]


@pytest.fixture
def seeded() -> None:
    with db.read_timeout(db.get_conn(), None) as conn:  # a load: no request deadline
        seed(conn, USERS)


def test_leaderboards_planner_pages_and_token_purge_read_indexes(seeded):
    conn = db.get_conn()
    assert conn.execute("SELECT count(*) AS n FROM skills").fetchone()["n"] == USERS * 8
    assert conn.execute("SHOW enable_seqscan").fetchone()["enable_seqscan"] == "on"

    for board in ("", "music"):
        plan = explain(profiles.LEADERBOARD, {"board": board, "limit": 100})
        assert not seq_scans(plan), plan
        assert ("Index Scan", "skill_scores", "skill_scores_board_idx") in plan, plan
        assert not any(relation == "skills" for _, relation, _ in plan), plan

    zones = [z["name"] for z in digests.due_zones(conn, MONDAY_8_UTC, 8)]
    middle = conn.execute("SELECT id FROM users WHERE timezone = 'UTC' ORDER BY id OFFSET %s LIMIT 1",
                          (USERS // 4,)).fetchone()["id"]
    for after_tz, after_id in (("", digests.FIRST_ID), ("UTC", middle)):
        plan = explain(digests.DUE_USERS_PAGE, {
            "zones": zones, "after_tz": after_tz, "after_id": after_id, "first_id": digests.FIRST_ID,
            "since": MONDAY_8_UTC - timedelta(days=7), "until": MONDAY_8_UTC, "limit": 1000})
        assert not seq_scans(plan), plan
        assert any(index == "users_digest_due_idx" for _, _, index in plan), plan
        assert "Incremental Sort" in [kind for kind, _, _ in plan], plan  # the LIMIT stops the walk

    # (The compaction's bound is its window, a LIMIT on the primary key; the maintenance tests walk it.
    # Its UPDATE of the <=100 due users may hash-join users at this size, rightly: 10k rows are cheap.)
    plan = explain(sync.COMPACT_DUE, {"keep": 1000, "after": uuid.UUID(int=0), "users": 100, "step": 10,
                                      "scan": maintenance.COMPACT_SCAN})
    assert ("Index Scan", "users", "users_pkey") in plan, plan
    plan = explain(refresh_tokens.PURGE_DEAD, {"limit": 1000, "margin_s": 3600, "revoked_retention_s": 7 * 86400})
    assert not seq_scans(plan), plan
    assert len([kind for kind, _, index in plan if index == "refresh_tokens_family_idx"]) == 2, plan

    # The worker's digest of one page of users reads only those users' rows (it once hash-joined a
    # sequential scan of all skills for the new skills and the top categories).
    page = [row["id"] for row in conn.execute("SELECT id FROM users ORDER BY id LIMIT 100").fetchall()]
    plan = explain(digests.COMPUTE_AND_CLAIM, {"user_ids": page, "iso_year": 2026, "iso_week": 49, "lease_s": 900,
                                               "since": MONDAY_8_UTC - timedelta(days=7), "until": MONDAY_8_UTC,
                                               "top": 3})
    assert not seq_scans(plan), plan


def test_the_seeded_pages_answer_what_the_old_statements_answered(seeded):
    """The rewritten planner page and leaderboard return exactly what a plain reading of the rule does."""
    conn = db.get_conn()
    zones = [z["name"] for z in digests.due_zones(conn, MONDAY_8_UTC, 8)]
    since = MONDAY_8_UTC - timedelta(days=7)
    expected = conn.execute(
        """SELECT u.timezone, u.id FROM users u
           WHERE NOT u.digest_opt_out AND u.timezone = ANY(%(zones)s)
             AND u.email_verified_at IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM email_suppressions x WHERE x.email = lower(u.email))
             AND (EXISTS (SELECT 1 FROM skill_progress p WHERE p.owner_id = u.id AND NOT p.superseded
                            AND p.created_at >= %(since)s AND p.created_at < %(until)s)
                  OR EXISTS (SELECT 1 FROM skills s WHERE s.owner_id = u.id
                            AND s.created_at >= %(since)s AND s.created_at < %(until)s))
           ORDER BY u.timezone, u.id""", {"zones": zones, "since": since, "until": MONDAY_8_UTC}).fetchall()
    walked, after = [], None
    while True:
        page = digests.due_users_page(conn, zones=zones, after=after, since=since, until=MONDAY_8_UTC, limit=700)
        walked += page
        if len(page) < 700:
            break
        after = (page[-1]["timezone"], page[-1]["id"])
    assert len(expected) > 2000 and walked == expected

    board = conn.execute(
        """SELECT u.username, sum(s.level)::int AS score FROM skills s JOIN users u ON u.id = s.owner_id
           WHERE u.privacy_settings->>'profile_visibility' = 'public'
           GROUP BY u.username ORDER BY score DESC, u.username LIMIT 100""").fetchall()
    assert [(r["username"], r["score"]) for r in profiles.leaderboard(conn, None, limit=100)] == \
        [(r["username"], r["score"]) for r in board]
