"""The one-off achievement backfill (a maintenance step): users from before achievements get what
their rows earn, page by page; running it twice (or again from the start) awards nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.clients import db
from shared.clients.registry import reset_all
from shared.ops import maintenance
from shared.repositories import achievements, skills
from tests.support.achievements import award_changes, awarded, versions

pytestmark = pytest.mark.usefixtures("no_mail_queue")  # they count the steps; see the fixture


FOREVER = 10**9


def old_user(make_user, name: str, level: int):
    """A user whose skill was written before achievements existed (no awarding), created long ago."""
    user, _ = make_user(name)
    skills.create_skill(db.get_conn(), user["id"], name="Go", category="programming", level=level)
    db.get_conn().execute("UPDATE users SET created_at = now() - interval '1 year' WHERE id = %s", (user["id"],))
    return user


def test_backfill_awards_old_users_once_page_by_page_and_is_safe_to_run_twice(make_user, monkeypatch):
    monkeypatch.setenv("ACHIEVEMENT_BACKFILL_USERS", "2")
    reset_all()
    old = [old_user(make_user, f"old_{n}", level) for n, level in enumerate((1, 5, 10, 3, 7))]
    achievements.reset_backfill(db.get_conn(), datetime.now(UTC) - timedelta(days=1))
    new, _ = make_user("newcomer")  # created after the cutoff: earns with its own writes, not visited
    skills.create_skill(db.get_conn(), new["id"], name="Go", category="programming", level=4)

    first = maintenance.run(lambda: FOREVER)
    assert first["complete"] and first["users_backfilled"] == 5
    assert first["achievements_backfilled"] == 1 + 2 + 3 + 1 + 2
    assert awarded(old[2]["id"]) == ["first_skill", "skill_level_10", "skill_level_5"]
    assert awarded(new["id"]) == []
    logged = {user["id"]: award_changes(user["id"]) for user in old}
    assert all(versions(user["id"]) == list(range(1, 2 + len(logged[user["id"]]))) for user in old)

    second = maintenance.run(lambda: FOREVER)  # finished: one read, nothing reported
    assert "users_backfilled" not in second and second["complete"]
    achievements.reset_backfill(db.get_conn(), datetime.now(UTC))  # run it all again, from the start
    third = maintenance.run(lambda: FOREVER)
    assert third["users_backfilled"] == 6 and third["achievements_backfilled"] == 1  # the newcomer's first_skill
    assert {user["id"]: award_changes(user["id"]) for user in old} == logged  # nothing twice


def test_a_backfill_that_stops_for_time_carries_on_where_it_was(make_user, monkeypatch):
    monkeypatch.setenv("ACHIEVEMENT_BACKFILL_USERS", "1")
    reset_all()
    old = [old_user(make_user, f"old_{n}", 2) for n in range(3)]
    achievements.reset_backfill(db.get_conn())
    page = achievements.backfill_page(db.get_conn(), 2)
    assert page["pending"] and page["scanned"] == 2 and len(page["users"]) == 2
    for user_id in page["users"]:
        achievements.award(db.get_conn(), user_id)
    achievements.advance_backfill(db.get_conn(), page["last"], finished=False)
    rest = achievements.backfill_page(db.get_conn(), 10)
    assert rest["scanned"] == 1 and set(rest["users"]) | set(page["users"]) == {u["id"] for u in old}
