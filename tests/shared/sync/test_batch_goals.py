"""Goals in offline batches (issue 17): devices set and clear them with ``skill.create`` /
``skill.update`` operations, under the same last-write-wins, and only a winning level reaches one."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from shared.clients import db
from shared.repositories import goals
from shared.sync.batch import apply_batch
from tests.shared.sync.test_batch import T0, batch, create, history, state, update

GOAL = {"target_level": 6, "target_date": "2030-06-01"}


@pytest.fixture
def owner(make_user):
    return make_user("offline")[0]["id"]


def test_a_device_sets_changes_and_clears_a_goal_once_each(owner):
    sid = uuid.uuid4()
    ops = batch(create("c1", sid, T0, goal=GOAL),
                update("u1", sid, T0 + timedelta(minutes=1), goal={"target_level": 8, "target_date": "2031-01-31"}))
    first, outcomes = apply_batch(owner, ops)
    assert [r.status for r in first.results] == ["applied", "applied"] and first.version == 2
    assert first.results[0].entity["goal"] == {**GOAL, "reached_at": None}
    assert [c["data"]["goal"]["target_level"] for o in outcomes for c in o.changes] == [6, 8]  # pushed as changes
    replay, replayed = apply_batch(owner, ops)
    assert replay.version == 2 and all(r.replayed for r in replay.results)
    assert not any(o.changes for o in replayed)
    cleared, _ = apply_batch(owner, batch(update("u2", sid, T0 + timedelta(minutes=2), goal=None)))
    assert cleared.results[0].status == "applied" and cleared.results[0].entity["goal"] is None
    assert state(owner, sid)[1]["goal"] is None and cleared.version == 3


def test_only_the_winning_level_reaches_a_goal(owner):
    sid = uuid.uuid4()
    apply_batch(owner, batch(create("seed", sid, T0, goal=GOAL),
                             update("newer", sid, T0 + timedelta(minutes=9), level=4)))
    # an older offline edit to level 7 loses: kept as a superseded history row, reaching nothing
    lost, outcomes = apply_batch(owner, batch(update("older", sid, T0 + timedelta(minutes=2), level=7)))
    assert lost.results[0].resolution == "stored_won" and not outcomes[0].changes
    assert (7, True) in history(owner, sid)
    assert state(owner, sid)[1]["goal"]["reached_at"] is None
    assert goals.reached_count(db.get_conn(), owner) == 0
    # a later edit that wins reaches it, stamped with the time of its (winning) history row
    won, outcomes = apply_batch(owner, batch(update("winner", sid, T0 + timedelta(minutes=20), level=6)))
    assert won.results[0].status == "applied"
    reached_at = won.results[0].entity["goal"]["reached_at"]
    assert reached_at is not None and outcomes[0].changes[0]["data"]["goal"]["reached_at"] == reached_at
    row = db.get_conn().execute("SELECT created_at FROM skill_progress WHERE skill_id = %s AND new_level = 6"
                                " AND NOT superseded", (sid,)).fetchone()
    assert row["created_at"].isoformat().replace("+00:00", "Z") == reached_at
    assert goals.reached_count(db.get_conn(), owner) == 1


def test_an_incoming_edit_that_wins_a_conflict_reaches_the_goal_once(owner):
    sid = uuid.uuid4()
    apply_batch(owner, batch(create("seed", sid, T0, goal=GOAL)))
    base = state(owner, sid)[1]["updated_at"]
    apply_batch(owner, batch(update("phone", sid, T0 + timedelta(minutes=3), level=5)))
    laptop = update("laptop", sid, T0 + timedelta(minutes=8), base=datetime.fromisoformat(base.replace("Z", "+00:00")),
                    level=6)
    result, _ = apply_batch(owner, batch(laptop))
    assert (result.results[0].status, result.results[0].resolution) == ("conflict", "incoming_won")
    assert result.results[0].entity["goal"]["reached_at"] is not None
    again, _ = apply_batch(owner, batch(laptop))
    assert again.results[0].replayed and goals.reached_count(db.get_conn(), owner) == 1


@pytest.mark.parametrize(("goal", "field"), [
    ({"target_level": 2, "target_date": "2030-06-01"}, "body.operations.0.data.goal"),
    ({"target_level": 6, "target_date": "June"}, "body.operations.0.data.goal.target_date"),
    ({"target_level": 6}, "body.operations.0.data.goal.target_date"),
])
def test_an_invalid_goal_rejects_its_operation_with_the_field(owner, goal, field):
    result, _ = apply_batch(owner, batch(create("c1", uuid.uuid4(), T0, goal=goal)))
    error = result.results[0].error
    assert result.results[0].status == "rejected" and error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]], error
    assert result.version == 0


def test_a_goal_not_above_the_stored_level_rejects_only_that_operation(owner):
    sid = uuid.uuid4()
    apply_batch(owner, batch(create("seed", sid, T0, level=7)))
    result, _ = apply_batch(owner, batch(update("low", sid, T0 + timedelta(minutes=1), goal=GOAL),
                                         update("name", sid, T0 + timedelta(minutes=2), name="Bass")))
    assert [r.status for r in result.results] == ["rejected", "applied"]
    assert result.results[0].error["details"][0]["field"] == "body.goal.target_level"
    assert state(owner, sid)[1]["goal"] is None and state(owner, sid)[1]["name"] == "Bass"


def test_a_goal_on_another_users_skill_is_not_found_like_a_missing_one(owner, make_user):
    other = make_user("someone")[0]["id"]
    theirs = uuid.uuid4()
    apply_batch(other, batch(create("theirs", theirs, T0, goal=GOAL)))
    before = state(other, theirs)
    foreign, _ = apply_batch(owner, batch(update("u1", theirs, T0 + timedelta(minutes=1), goal=None)))
    missing, _ = apply_batch(owner, batch(update("u2", uuid.uuid4(), T0 + timedelta(minutes=1), goal=None)))
    assert foreign.results[0].model_dump(exclude={"op_id"}) == missing.results[0].model_dump(exclude={"op_id"})
    assert foreign.results[0].status == "not_found" and state(other, theirs) == before
