"""The skills repository's write functions: concurrency and the seams the offline batch builds on."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from shared.clients import db
from shared.core.settings import get_settings
from shared.repositories import skills
from tests.support.skills import db_all, snapshot, sync_version


def test_concurrent_writes_get_gap_free_versions_and_a_consistent_history(make_user):
    user, _ = make_user("alice")
    skill = skills.create_skill(db.get_conn(), user["id"], name="Piano", category="music", level=1).entity
    skill_id = uuid.UUID(skill["id"])

    def writer(levels: list[int]) -> None:
        with psycopg.connect(get_settings().database_dsn(), autocommit=True, row_factory=dict_row,
                             prepare_threshold=None) as conn:  # as shared.clients.db: pooler-safe
            for level in levels:
                skills.update_skill(conn, user["id"], skill_id, {"level": level})

    threads = [threading.Thread(target=writer, args=([2, 3] * 15,)),
               threading.Thread(target=writer, args=([4, 5] * 15,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    versions = [row["version"] for row in db_all("SELECT version FROM changes WHERE owner_id = %s ORDER BY version",
                                                 user["id"])]
    assert versions == list(range(1, len(versions) + 1)) == list(range(1, sync_version(user["id"]) + 1))
    history = db_all("SELECT previous_level, new_level FROM skill_progress WHERE skill_id = %s ORDER BY id",
                     skill_id)
    assert len(history) == len(versions) == 61  # every write changed the level, so each has a row
    for before, after in itertools.pairwise(history):
        assert after["previous_level"] == before["new_level"]  # no lost update between the two writers


def test_client_id_and_client_clock_for_offline_creation(make_user):
    user, _ = make_user("alice")
    client_id = uuid.uuid4()
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    result = skills.create_skill(db.get_conn(), user["id"], name="Go", category="programming", level=2,
                                 skill_id=client_id, updated_at=at)
    assert result.status == "applied" and result.entity["id"] == str(client_id)
    assert result.entity["updated_at"] == "2026-01-02T03:04:05.678901Z"
    assert result.change["version"] == 1 and result.change["username"] == "alice"


def test_if_unmodified_since_refuses_older_writes_without_changing_anything(make_user):
    user, _ = make_user("alice")
    created = skills.create_skill(db.get_conn(), user["id"], name="Go", category="programming", level=2)
    skill_id = uuid.UUID(created.entity["id"])
    stored_at = datetime.fromisoformat(created.entity["updated_at"])
    before = snapshot(user["id"])
    stale = skills.update_skill(db.get_conn(), user["id"], skill_id, {"level": 9},
                                if_unmodified_since=stored_at - timedelta(seconds=1))
    assert (stale.status, stale.entity, stale.change) == ("stale", created.entity, None)
    refused = skills.delete_skill(db.get_conn(), user["id"], skill_id, if_unmodified_since=stored_at - timedelta(1))
    assert refused.status == "stale"
    assert snapshot(user["id"]) == before
    newer = skills.update_skill(db.get_conn(), user["id"], skill_id, {"level": 9}, if_unmodified_since=stored_at,
                                updated_at=stored_at + timedelta(seconds=5))
    assert newer.status == "applied" and newer.entity["level"] == 9 and newer.sync_version == 2


def test_statuses_for_missing_and_unchanged(make_user):
    user, _ = make_user("alice")
    created = skills.create_skill(db.get_conn(), user["id"], name="Go", category="programming", level=2)
    missing = skills.update_skill(db.get_conn(), user["id"], uuid.uuid4(), {"level": 3})
    assert (missing.status, missing.entity, missing.sync_version) == ("not_found", None, 1)
    same = skills.update_skill(db.get_conn(), user["id"], uuid.UUID(created.entity["id"]), {"level": 2})
    assert (same.status, same.entity, same.sync_version) == ("unchanged", created.entity, 1)
