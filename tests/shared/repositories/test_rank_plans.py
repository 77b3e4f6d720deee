"""Rank depth's statements read the board index, never a table scan (issue 17; as test_plans.py).

The store is the scale benchmark's 10,000 users (ANALYZEd, ``enable_seqscan`` ON), so a plan
without an index path is the planner's real choice. No statement counts users: every rank (mine,
a window's, a page's) and the level distribution read the rank histogram (migration 021) as ranges
of distinct scores; windows and pages are bounded index scans of the board index from a key.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.scale_seed import seed
from shared.clients import db
from shared.repositories import ranks
from tests.shared.repositories.test_plans import USERS, seq_scans

BOARD_INDEX = "skill_scores_board_idx"
HISTOGRAM_INDEX = "skill_score_counts_pkey"


def walk(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *[node for child in plan.get("Plans", []) for node in walk(child)]]


def explain(statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    row = db.get_conn().execute("EXPLAIN (FORMAT JSON) " + statement, params).fetchone()
    return walk(row["QUERY PLAN"][0]["Plan"])


def triples(plan: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    return [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in plan]


def range_counts(plan: list[dict[str, Any]]) -> list[str]:
    """The Index Conds of the index-only scans of the board index that bound the score from one side."""
    return [n.get("Index Cond", "") for n in plan
            if n["Node Type"] == "Index Only Scan" and n.get("Index Name") == BOARD_INDEX
            and "category" in n.get("Index Cond", "") and "score >" in n.get("Index Cond", "")]


@pytest.fixture
def seeded() -> Any:
    with db.read_timeout(db.get_conn(), None) as conn:
        seed(conn, USERS)
        # What autovacuum does to a table this size soon after a load: sets the visibility map, which
        # is what lets a count read the index alone (without it the same range is read through the heap).
        conn.execute("VACUUM (ANALYZE) skill_scores")
        conn.execute("VACUUM (ANALYZE) skill_score_counts")
    return db.get_conn().execute(
        "SELECT owner_id, score, username FROM skill_scores WHERE category = '' AND public"
        " ORDER BY score DESC, username OFFSET %s LIMIT 1", (USERS // 3,)).fetchone()


def board_reads(plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for n in plan if n.get("Index Name") == BOARD_INDEX]


def own_rows_only(plan: list[dict[str, Any]]) -> bool:
    """skill_scores is read only through its primary key, by owner (my own rows), if at all."""
    scans = [n for n in plan if n.get("Relation Name") == "skill_scores"
             or (n.get("Index Name") or "").startswith("skill_scores")]
    return bool(scans) and all(
        "owner_id" in (n.get("Index Cond", "") + n.get("Recheck Cond", ""))
        and n.get("Index Name") in (None, "skill_scores_pkey") and n["Node Type"] != "Seq Scan" for n in scans)


def histogram_ranges(plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Index scans of the rank histogram (migration 021) bounded by a board and a score from below."""
    return [n for n in plan if n["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
            and n.get("Index Name") == HISTOGRAM_INDEX
            and "category" in n.get("Index Cond", "") and "score >" in n.get("Index Cond", "")]


def test_rank_statements_are_index_range_reads(seeded):
    middle = seeded
    for board in ("", "music"):
        for statement, params in ((ranks.AROUND, {"board": board, "owner_id": middle["owner_id"]}),
                                  (ranks.BOARD_PAGE, {"board": board, "after_score": middle["score"],
                                                      "after_username": middle["username"], "limit": 101})):
            plan = explain(statement, params)
            assert not seq_scans(triples(plan)), triples(plan)
            assert not range_counts(plan), triples(plan)  # no count of the users ahead ...
            assert histogram_ranges(plan), triples(plan)  # ... but a sum over the scores above
            # Every read of the board index is bounded by a score (never a walk from a board's start):
            # the window/page branches start at the key.
            reads = board_reads(plan)
            assert len(reads) >= (4 if statement is ranks.AROUND else 2), triples(plan)
            assert all("score" in n.get("Index Cond", "") for n in reads), triples(plan)
            assert {n["Node Type"] for n in plan} & {"Seq Scan", "Hash Join"} == set(), triples(plan)

    plan = explain(ranks.MY_RANKS, {"owner_id": middle["owner_id"]})
    assert not seq_scans(triples(plan)), triples(plan)
    assert ("Index Scan", "users", "users_pkey") in triples(plan), triples(plan)
    # My rank reads the histogram (one score range of one board), never the board index, and
    # skill_scores only through its primary key on my own rows.
    assert not board_reads(plan), triples(plan)
    assert len(histogram_ranges(plan)) == 1, triples(plan)  # one correlated sum, run once per board I am on
    assert own_rows_only(plan), triples(plan)

    plan = explain(ranks.DISTRIBUTION, {})
    assert not seq_scans(triples(plan)), triples(plan)
    assert not board_reads(plan) and "skill_scores" not in {n.get("Relation Name") for n in plan}, triples(plan)
    assert any(n.get("Relation Name") == "skill_score_counts" or n.get("Index Name") == HISTOGRAM_INDEX
               for n in plan), triples(plan)


def test_my_rank_reads_distinct_scores_not_the_users_ahead(seeded):
    """EXPLAIN ANALYZE of my rank: per board I am on, one range of the rank histogram from my score
    up (its rows are distinct scores x shards, far fewer than the users ahead of me), and of
    skill_scores only my own rows: the cost is bounded by the score range, not by my rank."""
    middle = seeded
    conn = db.get_conn()
    row = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + ranks.MY_RANKS, {"owner_id": middle["owner_id"]}).fetchone()
    plan = walk(row["QUERY PLAN"][0]["Plan"])
    assert not board_reads(plan), triples(plan)
    [sums] = histogram_ranges(plan)
    mine = conn.execute(
        """SELECT count(*)::int AS boards,
                  sum((SELECT count(*) FROM skill_scores b WHERE b.category = s.category AND b.public
                       AND b.score > s.score))::int AS ahead,
                  sum((SELECT count(*) FROM skill_score_counts h WHERE h.category = s.category
                       AND h.score > s.score))::int AS buckets
           FROM skill_scores s WHERE s.owner_id = %s""", (middle["owner_id"],)).fetchone()
    assert sums["Actual Loops"] == mine["boards"] > 1
    read = sums["Actual Rows"] * sums["Actual Loops"]  # EXPLAIN rounds rows to a per-loop mean
    assert abs(read - mine["buckets"]) < sums["Actual Loops"]
    assert mine["buckets"] * 5 < mine["ahead"], mine  # a histogram row stands for many users ahead
    assert own_rows_only(plan), triples(plan)
    scores = [n for n in plan if n.get("Relation Name") == "skill_scores"]
    assert sum(n["Actual Rows"] * n["Actual Loops"] for n in scores) == mine["boards"], triples(plan)
