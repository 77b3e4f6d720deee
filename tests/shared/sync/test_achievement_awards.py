"""Exactly once under offline batches: two devices and a replayed batch earn one achievement at the
same moment (real Postgres, real Redis, a real WebSocket device listening) → one award, one push."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from shared.clients import db
from shared.models.sync import SyncBatch
from shared.repositories import skills
from shared.sync import batch
from tests.support.achievements import (
    award_changes,
    awarded,
    connection_per_thread,
    user_row_held,
    versions,
    wait_for_lock_waiters,
)
from tests.support.realtime import open_socket, recv_json

pytestmark = pytest.mark.usefixtures("ws_gateway")


def frames_until_quiet(sock: ClientConnection, quiet_s: float = 1.5) -> list[dict[str, Any]]:
    """Every frame the device gets until none comes for ``quiet_s`` (the pushes happen before this is
    called, so the wait only proves no extra one follows)."""
    frames = []
    while True:
        try:
            frames.append(recv_json(sock, timeout=quiet_s))
        except TimeoutError:
            return frames


def test_two_devices_and_a_replayed_batch_earn_level_10_once_with_one_push(make_user):
    user, _ = make_user("alice")
    go = skills.create_skill(db.get_conn(), user["id"], name="Go", category="programming", level=8, award=True)
    at = datetime.now(UTC) + timedelta(seconds=1)
    device_a = SyncBatch(operations=[{"op_id": "a-1", "type": "skill.update", "skill_id": go.entity["id"],
                                      "data": {"level": 10}, "updated_at": at.isoformat()}])
    device_b = SyncBatch(operations=[{"op_id": "b-1", "type": "skill.create",
                                      "skill_id": "7d0c1f8e-5b7a-4c1e-9a2b-3c4d5e6f7a8b",
                                      "data": {"name": "Piano", "category": "music", "level": 10},
                                      "updated_at": at.isoformat()}])
    listener = open_socket(user["id"])  # a third device of alice's, connected before the writes
    outcomes: dict[str, Any] = {}

    def run(name: str, queue: SyncBatch) -> None:
        outcomes[name] = batch.apply_batch(user["id"], queue)

    try:
        with connection_per_thread():
            threads = [threading.Thread(target=run, args=args)
                       for args in (("a", device_a), ("b", device_b), ("a-replay", device_a))]
            with user_row_held(user["id"]):  # all three queue on alice's row, then race
                for thread in threads:
                    thread.start()
                wait_for_lock_waiters(3)
            for thread in threads:
                thread.join(timeout=20)
        assert set(outcomes) == {"a", "b", "a-replay"}
        for _result, done in outcomes.values():
            batch.announce(user["id"], done)
        frames = frames_until_quiet(listener)
    finally:
        listener.close()

    statuses = sorted((r.results[0].status, r.results[0].replayed) for r, _ in outcomes.values())
    assert statuses == [("applied", False), ("applied", False), ("applied", True)]  # a-1 applied once
    assert awarded(user["id"]).count("skill_level_10") == 1
    logged = [c for c in award_changes(user["id"]) if c["data"]["code"] == "skill_level_10"]
    assert len(logged) == 1
    pushed = [f for f in frames if f.get("entity") == "achievement" and f["data"]["code"] == "skill_level_10"]
    assert len(pushed) == 1 and pushed[0]["version"] == logged[0]["version"]
    assert pushed[0]["type"] == "change" and pushed[0]["entity_id"] == str(logged[0]["entity_id"])
    assert versions(user["id"]) == list(range(1, len(versions(user["id"])) + 1))  # gap-free through it all
