"""The weekly digest names the achievements earned that week (and not older ones)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.clients import db
from shared.models.achievements import BY_CODE
from tests.support.digests import Mailbox, add_skill, drain, level_up, run_planner, run_worker

MONDAY_8_UTC = datetime(2025, 2, 17, 8, 0, tzinfo=UTC)
DURING_WEEK = MONDAY_8_UTC - timedelta(days=3)


def award(user_id, code: str, at: datetime) -> None:
    db.get_conn().execute("INSERT INTO user_achievements (user_id, code, awarded_at) VALUES (%s, %s, %s)",
                          (user_id, code, at))


def test_the_digest_lists_this_weeks_achievements_only(make_user, digest_queue):
    mailbox = Mailbox()
    user, _ = make_user("ann")
    conn = db.get_conn()
    conn.execute("UPDATE users SET email_verified_at = now() WHERE id = %s", (user["id"],))
    python = add_skill(conn, user["id"], "Python", level=4, created_at=MONDAY_8_UTC - timedelta(days=40))
    level_up(conn, python, 5, at=DURING_WEEK)
    award(user["id"], "first_skill", MONDAY_8_UTC - timedelta(days=40))
    award(user["id"], "skill_level_5", DURING_WEEK)
    run_planner(MONDAY_8_UTC)
    run_worker(digest_queue, drain(digest_queue))
    [mail] = mailbox.new()
    level_5, first = BY_CODE["skill_level_5"], BY_CODE["first_skill"]
    assert "New achievements" in mail["html"] and f"<strong>{level_5.name}</strong>: {level_5.description}" in mail[
        "html"]
    assert f"- {level_5.name}: {level_5.description}" in mail["body"]
    assert first.name not in mail["html"] and first.name not in mail["body"]  # earned weeks ago


def test_an_indonesian_digest_names_the_achievements_in_indonesian(make_user, digest_queue):
    mailbox = Mailbox()
    user, _ = make_user("budi")
    conn = db.get_conn()
    conn.execute("UPDATE users SET email_verified_at = now(), locale = 'id' WHERE id = %s", (user["id"],))
    python = add_skill(conn, user["id"], "Python", level=4, created_at=MONDAY_8_UTC - timedelta(days=40))
    level_up(conn, python, 5, at=DURING_WEEK)
    award(user["id"], "skill_level_5", DURING_WEEK)
    run_planner(MONDAY_8_UTC)
    run_worker(digest_queue, drain(digest_queue))
    [mail] = mailbox.new()
    assert "- Mahir: Capai level 5 pada sebuah keahlian." in mail["body"]
    assert BY_CODE["skill_level_5"].name not in mail["body"]  # "Adept": the English name is not used
