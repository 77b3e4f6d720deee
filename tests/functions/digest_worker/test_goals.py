"""The weekly digest mentions goals (issue 17): the ones a level-up reached this week and the open
ones due in the 7 days from the user's local digest date; moto's SES is the witness."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from shared.clients import db
from tests.support.digests import Mailbox, add_skill, drain, level_up, run_planner, run_worker, set_user

MONDAY_8_UTC = datetime(2025, 2, 17, 8, 0, tzinfo=UTC)
DURING_WEEK = MONDAY_8_UTC - timedelta(days=3)


def goal(skill_id: uuid.UUID, target: int, due: date, reached_at: datetime | None = None) -> None:
    """Give a seeded skill a goal (the digest tests seed rows directly, with chosen times)."""
    db.get_conn().execute("UPDATE skills SET goal_level = %s, goal_date = %s, goal_reached_at = %s WHERE id = %s",
                          (target, due, reached_at, skill_id))


def skill(user_id: uuid.UUID, name: str, level: int) -> uuid.UUID:
    return add_skill(db.get_conn(), user_id, name, level=level, created_at=MONDAY_8_UTC - timedelta(days=60))


def test_the_digest_lists_goals_reached_this_week_and_due_this_coming_week(make_user, digest_queue):
    mailbox = Mailbox()
    user, _ = make_user("ann")
    uid = user["id"]
    set_user(db.get_conn(), uid)
    piano = skill(uid, "Piano", 3)
    level_up(db.get_conn(), piano, 5, at=DURING_WEEK)
    goal(piano, 5, date(2025, 3, 1), reached_at=DURING_WEEK)  # reached by this week's level-up
    goal(skill(uid, "Spanish", 2), 4, date(2025, 2, 20))      # due Thursday: soon
    goal(skill(uid, "Chess", 3), 6, date(2025, 2, 17))        # due today (Monday): soon
    goal(skill(uid, "Drums", 3), 6, date(2025, 2, 24))        # due in 7 days: not yet
    goal(skill(uid, "Yoga", 3), 6, date(2025, 2, 16))         # overdue since yesterday: not "due soon"
    old = skill(uid, "Chemistry", 4)
    goal(old, 4, date(2025, 1, 1), reached_at=MONDAY_8_UTC - timedelta(days=20))  # reached long ago
    run_planner(MONDAY_8_UTC)
    assert run_worker(digest_queue, drain(digest_queue)) == [{"batchItemFailures": []}]
    [mail] = mailbox.new()
    assert mail["subject"] == ("Your week in Atribuo: 1 goal reached, 1 skill levelled up, +2 levels,"
                               " 2 goals due soon")
    html, text = mail["html"], mail["body"]
    assert "Goals reached\n- Piano: level 5 reached\n" in text
    assert "Goals due soon\n- Chess: level 3 of 6, due Mon 17 Feb\n- Spanish: level 2 of 4, due Thu 20 Feb\n" in text
    assert "<strong>Piano</strong>: level 5 reached" in html
    assert "<strong>Spanish</strong>: level 2 of 4, due Thu 20 Feb" in html
    for absent in ("Drums", "Yoga", "Chemistry"):
        assert absent not in text and absent not in html
    summary = db.get_conn().execute("SELECT summary FROM digest_sends WHERE user_id = %s", (uid,)).fetchone()
    assert (summary["summary"]["goals_due"], summary["summary"]["goals_reached"]) == (2, 1)


def test_a_quiet_week_with_a_goal_due_still_gets_a_digest_judged_in_the_users_zone(make_user, digest_queue):
    """Tokyo's Monday 08:00 is Sunday 23:00 UTC: its 7 days run Monday 17th to Sunday 23rd there."""
    mailbox = Mailbox()
    tokyo_8 = datetime(2025, 2, 16, 23, 0, tzinfo=UTC)
    due, late, idle = (make_user(name)[0]["id"] for name in ("due", "late", "idle"))
    for uid in (due, late, idle):
        set_user(db.get_conn(), uid, timezone="Asia/Tokyo")
    goal(skill(due, "Kanji", 2), 5, date(2025, 2, 23))   # Sunday in Tokyo: the window's last day
    goal(skill(late, "Kanji", 2), 5, date(2025, 2, 16))  # the UTC date of the run, already past in Tokyo
    goal(skill(idle, "Kanji", 2), 5, date(2025, 2, 24))  # next Monday in Tokyo: a week out
    assert run_planner(tokyo_8)["users"] == 1
    run_worker(digest_queue, drain(digest_queue))
    assert mailbox.recipients() == ["due@example.com"]
    [mail] = mailbox.new()
    assert mail["subject"] == "Your week in Atribuo: 1 goal due soon"
    assert "- Kanji: level 2 of 5, due Sun 23 Feb" in mail["body"]
