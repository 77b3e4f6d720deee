"""Awarding achievements in the write that earns them: exactly once, in the database."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from shared.clients import db
from shared.models.achievements import CATALOGUE
from shared.models.categories import CATEGORIES
from shared.models.sync import SyncBatch
from shared.repositories import achievements, skills
from shared.repositories.achievements import FACTS
from shared.sync import awards
from shared.sync.batch import apply_batch
from tests.support.achievements import (
    award_changes,
    awarded,
    connect,
    user_row_held,
    versions,
    wait_for_lock_waiters,
)
from tests.support.skills import db_all


def test_every_rule_is_on_a_fact_the_database_computes_and_codes_are_unique():
    assert {a.fact for a in CATALOGUE} <= set(FACTS)
    assert len({a.code for a in CATALOGUE}) == len(CATALOGUE)


def test_the_write_awards_what_it_earns_in_its_own_statement_after_its_own_change(make_user):
    user, _ = make_user("alice")
    result = skills.create_skill(db.get_conn(), user["id"], name="Piano", category="music", level=7, award=True)
    assert result.change["version"] == 1 and result.sync_version == 3
    assert [(a["version"], a["data"]["code"]) for a in result.awards] == [(2, "first_skill"), (3, "skill_level_5")]
    assert all(a["entity"] == "achievement" and a["username"] == "alice" for a in result.awards)
    assert awarded(user["id"]) == ["first_skill", "skill_level_5"] and versions(user["id"]) == [1, 2, 3]
    logged = award_changes(user["id"])
    assert [str(c["entity_id"]) for c in logged] == [a["data"]["id"] for a in result.awards]
    same = skills.update_skill(db.get_conn(), user["id"], uuid.UUID(result.entity["id"]), {"description": "x"},
                               award=True)
    assert same.awards == () and same.sync_version == 4  # nothing new: only the write's own version


def test_level_churn_awards_once(make_user):
    user, _ = make_user("alice")
    skill_id = uuid.UUID(skills.create_skill(db.get_conn(), user["id"], name="Go", category="programming", level=1,
                                             award=True).entity["id"])
    earned = []
    for level in (10, 1, 10, 1, 10):
        earned += [a["data"]["code"] for a in skills.update_skill(db.get_conn(), user["id"], skill_id,
                                                                  {"level": level}, award=True).awards]
    assert earned == ["first_level_up", "skill_level_10", "skill_level_5"]
    assert [c["data"]["code"] for c in award_changes(user["id"])].count("skill_level_10") == 1
    assert versions(user["id"]) == list(range(1, 6 + 4 + 1))  # 6 writes and 4 awards (first_skill too): gap-free


def test_a_superseded_level_never_awards(make_user):
    """An offline edit to level 10 that loses last-write-wins stays in the history as superseded and
    awards nothing, then or at any later evaluation."""
    user, _ = make_user("alice")
    created = skills.create_skill(db.get_conn(), user["id"], name="Go", category="programming", level=2, award=True)
    stored_at = datetime.fromisoformat(created.entity["updated_at"])
    old_edit = {"op_id": "offline-1", "type": "skill.update", "skill_id": created.entity["id"], "data": {"level": 10},
                "updated_at": (stored_at - timedelta(minutes=5)).isoformat()}
    result, _ = apply_batch(user["id"], SyncBatch(operations=[old_edit]))
    assert result.results[0].status == "conflict" and result.results[0].resolution == "stored_won"
    assert db_all("SELECT new_level FROM skill_progress WHERE owner_id = %s AND superseded", user["id"]) == [
        {"new_level": 10}]
    assert awarded(user["id"]) == ["first_skill"]
    assert awards.award_now(db.get_conn(), user["id"]) == [] and awarded(user["id"]) == ["first_skill"]


def test_two_writes_at_once_award_once_and_an_award_needing_both_is_not_missed(make_user):
    """Two writes race (each started before the other committed, so neither statement's snapshot has
    the other's skill); together they complete every category: the one that saw the race re-checks."""
    user, _ = make_user("alice")
    for category in CATEGORIES[:-2]:
        skills.create_skill(db.get_conn(), user["id"], name=category, category=category, level=1, award=True)
    results, conns = {}, [connect(), connect()]

    def write(n: int) -> None:
        category = CATEGORIES[-2 + n]
        results[n] = skills.create_skill(conns[n], user["id"], name=category, category=category, level=1, award=True)

    try:
        with user_row_held(user["id"]):
            threads = [threading.Thread(target=write, args=(n,)) for n in (0, 1)]
            for thread in threads:
                thread.start()
            wait_for_lock_waiters(2)
        for thread in threads:
            thread.join(timeout=10)
        assert not any(r.awards for r in results.values())  # each statement saw only 9 categories
        assert [r.recheck for r in results.values()].count(True) >= 1
        found = [a for n, r in results.items() for a in awards.settle(conns[n], user["id"], r)]
    finally:
        for conn in conns:
            conn.close()
    assert [a["data"]["code"] for a in found] == ["all_categories"]
    assert "all_categories" in awarded(user["id"])
    assert versions(user["id"]) == list(range(1, len(versions(user["id"])) + 1))  # gap-free


def test_facts_come_from_the_users_own_rows_only(make_user):
    alice, _ = make_user("alice")
    bob, _ = make_user("bob")
    skills.create_skill(db.get_conn(), bob["id"], name="Go", category="programming", level=10, award=True)
    assert awards.award_now(db.get_conn(), alice["id"]) == [] and awarded(alice["id"]) == []
    assert awarded(bob["id"]) == ["first_skill", "skill_level_10", "skill_level_5"]


def test_weekly_facts_streaks_and_busy_weeks(make_user):
    user, _ = make_user("alice")
    skill_id = uuid.UUID(skills.create_skill(db.get_conn(), user["id"], name="Go", category="mind", level=1).entity[
        "id"])
    for level in range(2, 7):
        skills.update_skill(db.get_conn(), user["id"], skill_id, {"level": level})
    monday = datetime(2026, 11, 2, 12, tzinfo=UTC)  # put the history on four consecutive weeks
    rows = db_all("SELECT id FROM skill_progress WHERE owner_id = %s ORDER BY id", user["id"])
    weeks = [0, 1, 2, 3, 3, 3]
    for row, week in zip(rows, weeks, strict=True):
        db.get_conn().execute("UPDATE skill_progress SET created_at = %s WHERE id = %s",
                              (monday + timedelta(weeks=week), row["id"]))
    codes = [a["data"]["code"] for a in awards.award_now(db.get_conn(), user["id"])]
    assert "streak_4_weeks" in codes and "busy_week" not in codes  # 3 level-ups in the best week, not 5
    assert achievements.award(db.get_conn(), user["id"])["awards"] == []


def test_reaching_a_goal_awards_goal_reached_once_and_a_superseded_level_never_does(make_user):
    user, _ = make_user("alice")
    goal = {"target_level": 4, "target_date": "2030-01-01"}
    created = skills.create_skill(db.get_conn(), user["id"], name="Go", category="programming", level=2, goal=goal,
                                  award=True)
    skill_id = uuid.UUID(created.entity["id"])
    stored_at = datetime.fromisoformat(created.entity["updated_at"])
    lost = {"op_id": "offline-1", "type": "skill.update", "skill_id": str(skill_id), "data": {"level": 4},
            "updated_at": (stored_at - timedelta(minutes=5)).isoformat()}
    apply_batch(user["id"], SyncBatch(operations=[lost]))  # loses: a superseded 4 reaches nothing
    assert "goal_reached" not in awarded(user["id"])
    reached = skills.update_skill(db.get_conn(), user["id"], skill_id, {"level": 4}, award=True)
    assert reached.goal_reached and "goal_reached" in [a["data"]["code"] for a in reached.awards]
    skills.update_skill(db.get_conn(), user["id"], skill_id, {"goal": {"target_level": 6,
                                                                      "target_date": "2030-01-01"}}, award=True)
    again = skills.update_skill(db.get_conn(), user["id"], skill_id, {"level": 6}, award=True)
    assert again.goal_reached and "goal_reached" not in [a["data"]["code"] for a in again.awards]
    assert awarded(user["id"]).count("goal_reached") == 1
