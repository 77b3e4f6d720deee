"""shared.repositories.sync on real Postgres: delta reads after 1,000 changes, compaction, snapshots."""

from __future__ import annotations

from typing import Any

from shared.clients import db
from shared.repositories import sync
from tests.support.realtime import add_changes, add_skill


class CountingConn:
    """Counts statements (round trips) sent through a real connection."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.statements = conn, 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return self.conn.execute(*args, **kwargs)


def test_after_1000_changes_since_n_returns_exactly_the_missing_ones_in_order(make_user):
    user, _ = make_user()
    assert add_changes(user["id"], 1000) == 1000
    counting = CountingConn(db.get_conn())
    row = sync.read(counting, user["id"], since=637, limit=10_000)
    assert counting.statements == 1
    assert row["mode"] == "changes" and row["version"] == 1000
    assert [c["version"] for c in row["changes"]] == list(range(638, 1001))
    assert row["skills"] is None and row["profile"] is None


def test_compaction_moves_the_floor_and_old_clients_get_a_snapshot(make_user):
    user, _ = make_user()
    add_changes(user["id"], 1000)
    skill = add_skill(user["id"])
    conn = db.get_conn()
    assert sync.compact(conn, user["id"], keep=100) == {"compacted_before": 901, "deleted": 900}
    assert sync.read(conn, user["id"], since=900, limit=1000)["changes"][0]["version"] == 901
    snapshot = sync.read(conn, user["id"], since=899, limit=1000)
    assert snapshot["mode"] == "snapshot" and snapshot["changes"] is None
    assert [s["id"] for s in snapshot["skills"]] == [str(skill["id"])]
    assert set(snapshot["skills"][0]) == {"id", "name", "category", "level", "description", "goal", "created_at",
                                          "updated_at"}
    assert snapshot["profile"]["username"] == "alice" and "password_hash" not in snapshot["profile"]
    # The floor never moves back down.
    assert sync.compact(conn, user["id"], keep=5000)["compacted_before"] == 901


def test_no_since_is_a_snapshot_and_compacting_everything_still_serves_the_current_version(make_user):
    user, _ = make_user()
    add_changes(user["id"], 10)
    conn = db.get_conn()
    assert sync.read(conn, user["id"], since=None, limit=10)["mode"] == "snapshot"
    sync.compact(conn, user["id"], keep=0)
    up_to_date = sync.read(conn, user["id"], since=10, limit=10)
    assert (up_to_date["mode"], up_to_date["changes"]) == ("changes", [])
    assert sync.read(conn, user["id"], since=9, limit=10)["mode"] == "snapshot"


def test_unknown_user_is_none():
    import uuid

    assert sync.read(db.get_conn(), uuid.uuid4(), since=0, limit=10) is None
