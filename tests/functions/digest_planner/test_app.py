"""The planner: who is due at a scheduled hour (their local Monday 08:xx), in pages, to SQS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from functions.digest_planner.app import handler
from shared.clients import db
from tests.support import invoke_plain, load_event
from tests.support.digests import add_skill, drain, run_planner, set_user

MONDAY_8_UTC = datetime(2025, 2, 17, 8, 0, tzinfo=UTC)  # ISO 2025-W08


def active(make_user, name: str, tz: str = "UTC", *, opt_out: bool = False):
    user, _ = make_user(name)
    set_user(db.get_conn(), user["id"], timezone=tz, opt_out=opt_out)
    add_skill(db.get_conn(), user["id"], "Chess", level=2, created_at=MONDAY_8_UTC - timedelta(days=2))
    return user["id"]


def planned_users(queue_url: str) -> list[str]:
    return sorted(uid for m in drain(queue_url) for uid in json.loads(m["Body"])["user_ids"])


def test_timezones_pick_the_utc_hour_that_is_monday_8_locally(make_user, digest_queue):
    utc, tokyo = active(make_user, "utc_user"), active(make_user, "tokyo_user", "Asia/Tokyo")
    new_york, kolkata = active(make_user, "ny_user", "America/New_York"), active(make_user, "in_user", "Asia/Kolkata")
    # Monday 08:00 in Tokyo is Sunday 23:00 UTC.
    assert run_planner(datetime(2025, 2, 16, 23, tzinfo=UTC))["users"] == 1
    assert planned_users(digest_queue) == [str(tokyo)]
    assert run_planner(MONDAY_8_UTC)["users"] == 1
    assert planned_users(digest_queue) == [str(utc)]
    assert run_planner(datetime(2025, 2, 17, 13, tzinfo=UTC))["users"] == 1  # EST is UTC-5 in February
    assert planned_users(digest_queue) == [str(new_york)]
    assert run_planner(datetime(2025, 2, 17, 3, tzinfo=UTC))["users"] == 1  # 08:30 in Kolkata (UTC+5:30)
    assert planned_users(digest_queue) == [str(kolkata)]
    assert run_planner(datetime(2025, 2, 17, 9, tzinfo=UTC))["users"] == 0


def test_message_names_the_local_iso_week_and_the_window(make_user, digest_queue):
    tokyo = active(make_user, "tokyo_user", "Asia/Tokyo")
    run_planner(datetime(2025, 2, 16, 23, tzinfo=UTC))  # still ISO week 7 in UTC; week 8 in Tokyo
    [message] = drain(digest_queue)
    body = json.loads(message["Body"])
    assert body["user_ids"] == [str(tokyo)]
    assert (body["iso_year"], body["iso_week"]) == (2025, 8)
    assert body["until"].startswith("2025-02-16T23:00:00") and body["since"].startswith("2025-02-09T23:00:00")


def test_opted_out_and_inactive_users_are_not_enqueued(make_user, digest_queue):
    keen = active(make_user, "keen")
    active(make_user, "quitter", opt_out=True)
    make_user("idle")
    old, _ = make_user("old_news")
    add_skill(db.get_conn(), old["id"], "Latin", level=3, created_at=MONDAY_8_UTC - timedelta(days=8))
    assert run_planner(MONDAY_8_UTC)["users"] == 1
    assert planned_users(digest_queue) == [str(keen)]


def test_scheduled_time_comes_from_the_event_not_the_clock(make_user, digest_queue):
    """The sample event (a late, re-delivered 08:03 fire) plans the 08:00 run, whenever it arrives."""
    keen = active(make_user, "keen")
    event = load_event("event-scheduled-digest")
    assert isinstance(event["detail"], str)
    event["time"] = "2025-02-17T08:03:27Z"
    result = invoke_plain(handler, event)
    assert result["scheduled_hour"] == "2025-02-17T08:00:00+00:00" and result["users"] == 1
    assert planned_users(digest_queue) == [str(keen)]


def test_pages_are_batches_of_ten_messages(make_user, digest_queue, monkeypatch):
    from shared.digests import pipeline as digests

    monkeypatch.setattr(digests, "USERS_PER_MESSAGE", 2)
    monkeypatch.setattr(digests, "PLANNER_PAGE", 4)
    ids = [active(make_user, f"user_{i}") for i in range(9)]
    result = run_planner(MONDAY_8_UTC)
    assert result == {"scheduled_hour": "2025-02-17T08:00:00+00:00", "users": 9, "messages": 5, "pages": 3}
    assert planned_users(digest_queue) == sorted(str(i) for i in ids)
