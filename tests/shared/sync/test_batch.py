"""Offline batches against the real database: once-only operations and last-write-wins with notice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.clients import db
from shared.models.sync import SyncBatch
from shared.repositories import operations, skills
from shared.sync.batch import apply_batch

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def batch(*ops: dict) -> SyncBatch:
    return SyncBatch.model_validate({"operations": list(ops)})


def create(op_id: str, skill_id: uuid.UUID, at: datetime, **data) -> dict:
    body = {"name": "Guitar", "category": "music", "level": 3} | data
    return {"op_id": op_id, "type": "skill.create", "skill_id": str(skill_id), "data": body,
            "updated_at": at.isoformat()}


def update(op_id: str, skill_id: uuid.UUID, at: datetime, base: datetime | None = None, **data) -> dict:
    op = {"op_id": op_id, "type": "skill.update", "skill_id": str(skill_id), "data": data,
          "updated_at": at.isoformat()}
    return op | ({"base_updated_at": base.isoformat()} if base else {})


def state(owner_id, skill_id) -> tuple[int, dict | None]:
    return skills.get_skill(db.get_conn(), owner_id, skill_id)


def history(owner_id, skill_id) -> list[tuple[int, bool]]:
    page = skills.skill_progress(db.get_conn(), owner_id, skill_id, limit=50)[1]
    return sorted((item["new_level"], item["superseded"]) for item in page["items"])


@pytest.fixture
def owner(make_user):
    return make_user("offline")[0]["id"]


def test_replaying_a_batch_changes_nothing_twice(owner):
    sid = uuid.uuid4()
    ops = batch(create("c1", sid, T0), update("u1", sid, T0 + timedelta(minutes=1), level=4, note="practised"))
    first, _ = apply_batch(owner, ops)
    second, replay_outcomes = apply_batch(owner, ops)
    assert [r.status for r in first.results] == ["applied", "applied"]
    assert second.version == first.version == 4  # the create (+ first_skill), the level-up (+ first_level_up)
    assert [r.replayed for r in second.results] == [True, True]
    assert [r.model_dump(exclude={"replayed"}) for r in second.results] == \
           [r.model_dump(exclude={"replayed"}) for r in first.results]
    assert all(not o.changes for o in replay_outcomes), "a replay must not announce changes again"
    assert state(owner, sid)[1]["level"] == 4
    assert history(owner, sid) == [(3, False), (4, False)]


@pytest.mark.parametrize("order", ["older_first", "newer_first"])
def test_two_offline_devices_converge_with_one_notice_and_both_values_kept(owner, order):
    sid = uuid.uuid4()
    apply_batch(owner, batch(create("seed", sid, T0)))
    base = datetime.fromisoformat(state(owner, sid)[1]["updated_at"].replace("Z", "+00:00"))
    device_a = batch(update("a1", sid, T0 + timedelta(minutes=5), base=base, level=5))
    device_b = batch(update("b1", sid, T0 + timedelta(minutes=9), base=base, level=7))
    runs = [device_a, device_b] if order == "older_first" else [device_b, device_a]
    results = [apply_batch(owner, run) for run in runs]
    final = state(owner, sid)[1]
    assert final["level"] == 7, "the newer edit wins whatever order the devices sync in"
    notices = [n for _, outs in results for o in outs for n in o.conflicts]
    assert len(notices) == 1 and notices[0]["type"] == "conflict"
    conflict_result = results[1][0].results[0]
    assert conflict_result.status == "conflict" and conflict_result.entity["level"] == 7
    levels = {level for level, _ in history(owner, sid)}
    assert {5, 7} <= levels, "both values are in the skill's history"
    logged = operations.conflicts_for(db.get_conn(), owner, sid)
    assert len(logged) == 1 and {logged[0]["winner"]["level"], logged[0]["loser"]["level"]} == {5, 7}


def test_a_losing_level_is_history_but_never_the_skill_level(owner):
    sid = uuid.uuid4()
    apply_batch(owner, batch(create("seed", sid, T0), update("new", sid, T0 + timedelta(minutes=9), level=8)))
    result, _ = apply_batch(owner, batch(update("old", sid, T0 + timedelta(minutes=2), level=2)))
    assert result.results[0].resolution == "stored_won"
    assert state(owner, sid)[1]["level"] == 8
    assert (2, True) in history(owner, sid) and (8, False) in history(owner, sid)


def test_a_rejected_operation_is_recorded_and_replays_the_same_rejection(owner):
    first = batch(create("c1", uuid.uuid4(), T0))
    duplicate_name = batch(create("c2", uuid.uuid4(), T0))
    apply_batch(owner, first)
    rejected, _ = apply_batch(owner, duplicate_name)
    again, _ = apply_batch(owner, duplicate_name)
    assert rejected.results[0].status == "rejected" and rejected.results[0].error["code"] == "conflict"
    assert again.results[0].status == "rejected" and again.results[0].replayed
    assert rejected.version == again.version == 2  # the first create and its first_skill


def test_a_device_clock_in_the_future_cannot_win_every_later_conflict(owner):
    sid = uuid.uuid4()
    far_future = datetime.now(UTC) + timedelta(days=365)
    apply_batch(owner, batch(create("c1", sid, T0), update("skewed", sid, far_future, level=9)))
    later, _ = apply_batch(owner, batch(update("honest", sid, datetime.now(UTC) + timedelta(seconds=1), level=4)))
    assert later.results[0].status == "applied" and state(owner, sid)[1]["level"] == 4


def test_deleting_an_edited_skill_with_an_older_delete_keeps_the_skill(owner):
    sid = uuid.uuid4()
    apply_batch(owner, batch(create("c1", sid, T0), update("u1", sid, T0 + timedelta(minutes=9), level=6)))
    delete = {"op_id": "d1", "type": "skill.delete", "skill_id": str(sid),
              "updated_at": (T0 + timedelta(minutes=1)).isoformat()}
    result, _ = apply_batch(owner, batch(delete))
    assert result.results[0].status == "conflict" and result.results[0].resolution == "stored_won"
    assert state(owner, sid)[1]["level"] == 6


@pytest.mark.parametrize(("bad", "field"), [
    ({"op_id": "x", "type": "skill.update", "skill_id": str(uuid.uuid4()), "data": {"level": 11},
      "updated_at": T0.isoformat()}, "body.operations.1.data.level"),
    ({"op_id": "x", "type": "skill.create", "skill_id": str(uuid.uuid4()), "data": {"name": "n"},
      "updated_at": T0.isoformat()}, "body.operations.1.data.category"),
    ({"op_id": "x", "type": "skill.update", "skill_id": str(uuid.uuid4()), "data": {},
      "updated_at": "2026-11-01T12:00"}, "body.operations.1.updated_at"),
    ({"op_id": "bad id!", "type": "skill.delete", "skill_id": str(uuid.uuid4()), "updated_at": T0.isoformat()},
     "body.operations.1.op_id"),
    ({"op_id": "x", "type": "profile.update", "data": {"bio": "b" * 2001}, "updated_at": T0.isoformat()},
     "body.operations.1.data.bio"),
    ("not an object", "body.operations.1"),
])
def test_an_invalid_operation_is_rejected_with_its_field_and_the_others_apply(owner, bad, field):
    sid = uuid.uuid4()
    result, _ = apply_batch(owner, batch(create("c1", sid, T0), bad, update("u1", sid, T0, level=5)))
    statuses = [r.status for r in result.results]
    assert statuses == ["applied", "rejected", "applied"], result
    error = result.results[1].error
    assert error["code"] == "validation_error" and field in [d["field"] for d in error["details"]], error
    assert set(error["details"][0]) == {"field", "message", "type"}  # the shape of a 422's details
    assert state(owner, sid)[1]["level"] == 5


def test_a_repeated_op_id_in_one_batch_is_rejected_after_its_first_use(owner):
    sid = uuid.uuid4()
    result, _ = apply_batch(owner, batch(create("same", sid, T0), update("same", sid, T0, level=2)))
    assert [r.status for r in result.results] == ["applied", "rejected"]
    assert result.results[1].error["details"][0]["field"] == "body.operations.1.op_id"
    assert state(owner, sid)[1]["level"] == 3


def test_create_with_another_users_skill_id_answers_like_a_missing_skill(owner, make_user):
    other = make_user("someone")[0]["id"]
    taken = uuid.uuid4()
    apply_batch(other, batch(create("theirs", taken, T0)))
    before = state(other, taken)
    foreign, _ = apply_batch(owner, batch(create("c1", taken, T0, name="Mine")))
    missing, _ = apply_batch(owner, batch(update("u1", uuid.uuid4(), T0, level=2)))
    strip = {"op_id"}
    assert foreign.results[0].model_dump(exclude=strip) == missing.results[0].model_dump(exclude=strip)
    assert foreign.results[0].status == "not_found" and foreign.version == missing.version == 0
    assert state(other, taken) == before
    own, _ = apply_batch(owner, batch(create("c2", sid := uuid.uuid4(), T0, name="A"),
                                      create("c3", sid, T0, name="B")))
    assert own.results[1].status == "rejected" and own.results[1].error["details"][0]["field"] == "body.id"


def profile_op(op_id: str, at: datetime, **data) -> dict:
    return {"op_id": op_id, "type": "profile.update", "data": data, "updated_at": at.isoformat()}


def test_profile_operations_are_field_level_last_write_wins(owner):
    from shared.repositories import profiles

    first, outcomes = apply_batch(owner, batch(profile_op("p1", T0 + timedelta(minutes=9), bio="newer bio")))
    assert first.results[0].status == "applied" and outcomes[0].changes[0]["entity"] == "profile"
    # an older offline edit: its bio lost to the newer one, its display name (untouched since) applies
    older, outcomes = apply_batch(owner, batch(profile_op("p2", T0 + timedelta(minutes=2), bio="older bio",
                                                          display_name="Offline Name")))
    result = older.results[0]
    assert result.status == "conflict" and result.resolution == "stored_won"
    assert (result.entity["bio"], result.entity["display_name"]) == ("newer bio", "Offline Name")
    assert outcomes[0].conflicts[0]["loser"]["bio"] == "older bio"
    _, stored = profiles.get_profile(db.get_conn(), owner)
    assert (stored["bio"], stored["display_name"]) == ("newer bio", "Offline Name")
    # a newer edit of the same field wins
    newest, _ = apply_batch(owner, batch(profile_op("p3", T0 + timedelta(minutes=20), bio="newest")))
    assert newest.results[0].status == "applied" and newest.results[0].entity["bio"] == "newest"
    replay, _ = apply_batch(owner, batch(profile_op("p2", T0, bio="ignored")))
    assert replay.results[0].replayed and replay.results[0].status == "conflict"
