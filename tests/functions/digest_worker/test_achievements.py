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


def weekly_mail(make_user, digest_queue, name: str, locale: str | None, awards: dict[str, datetime]) -> dict:
    """The digest of a verified user who levelled Python up to 5 this week and holds ``awards``."""
    mailbox = Mailbox()
    user, _ = make_user(name)
    conn = db.get_conn()
    conn.execute("UPDATE users SET email_verified_at = now(), locale = %s WHERE id = %s", (locale, user["id"]))
    python = add_skill(conn, user["id"], "Python", level=4, created_at=MONDAY_8_UTC - timedelta(days=40))
    level_up(conn, python, 5, at=DURING_WEEK)
    for code, at in awards.items():
        award(user["id"], code, at)
    run_planner(MONDAY_8_UTC)
    run_worker(digest_queue, drain(digest_queue))
    [mail] = mailbox.new()
    return mail


def test_the_digest_lists_this_weeks_achievements_only(make_user, digest_queue):
    mail = weekly_mail(make_user, digest_queue, "ann", None, {
        "first_skill": MONDAY_8_UTC - timedelta(days=40), "skill_level_5": DURING_WEEK})
    level_5, first = BY_CODE["skill_level_5"], BY_CODE["first_skill"]
    assert "New achievements" in mail["html"] and f"<strong>{level_5.name}</strong>: {level_5.description}" in mail[
        "html"]
    assert f"- {level_5.name}: {level_5.description}" in mail["body"]
    assert first.name not in mail["html"] and first.name not in mail["body"]  # earned weeks ago


def test_an_indonesian_digest_names_the_achievements_in_indonesian(make_user, digest_queue):
    mail = weekly_mail(make_user, digest_queue, "budi", "id", {"skill_level_5": DURING_WEEK})
    assert "- Mahir: Capai level 5 pada sebuah keahlian." in mail["body"]
    assert BY_CODE["skill_level_5"].name not in mail["body"]  # "Adept": the English name is not used
