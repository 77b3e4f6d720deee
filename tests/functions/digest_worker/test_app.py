"""The worker: set-based digests per page, exactly one email per active user per ISO week.

Deliveries are at least once (scheduler, SQS, Lambda retries); moto's SES is the witness of what
was really sent. SQL statements are counted with a cursor factory on the real psycopg connection.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import psycopg
import pytest

from functions.digest.app import handler as digest_handler
from functions.digest_worker.app import handler
from shared.clients import db
from tests.support import http_event, invoke, invoke_plain, load_event
from tests.support.digests import (
    Mailbox,
    add_skill,
    drain,
    level_up,
    run_planner,
    run_worker,
    seed_users,
    set_user,
)

MONDAY_8_UTC = datetime(2025, 2, 17, 8, 0, tzinfo=UTC)
DURING_WEEK = MONDAY_8_UTC - timedelta(days=3)


def with_week(make_user, name: str, **settings: Any) -> uuid.UUID:
    """A user who levelled Python 3 → 5 and started Guitar this week."""
    user, _ = make_user(name)
    conn = db.get_conn()
    set_user(conn, user["id"], **settings)
    python = add_skill(conn, user["id"], "Python", level=3, created_at=MONDAY_8_UTC - timedelta(days=40))
    level_up(conn, python, 4, at=DURING_WEEK)
    level_up(conn, python, 5, at=DURING_WEEK + timedelta(hours=1), note="finally!")
    add_skill(conn, user["id"], "Guitar", level=2, category="Music", created_at=DURING_WEEK)
    return user["id"]


def test_three_scheduler_deliveries_and_two_sqs_deliveries_send_one_email_each(make_user, digest_queue):
    mailbox = Mailbox()
    ann, bob = with_week(make_user, "ann"), with_week(make_user, "bob")
    with_week(make_user, "quitter", opt_out=True)
    with_week(make_user, "tokyo", timezone="Asia/Tokyo")  # not due at 08:00 UTC
    make_user("idle")
    with_week(make_user, "unproven", verified=False)  # digests go only to verified addresses
    with_week(make_user, "bouncing")  # and never to a suppressed one
    db.get_conn().execute("INSERT INTO email_suppressions (email, reason) VALUES ('bouncing@example.com', 'bounce')")
    for _ in range(3):  # EventBridge Scheduler delivers at least once
        assert run_planner(MONDAY_8_UTC)["users"] == 2
    messages = drain(digest_queue)
    assert len(messages) == 3
    for _ in range(2):  # and SQS delivers each message at least once
        assert all(r == {"batchItemFailures": []} for r in run_worker(digest_queue, messages))
    assert mailbox.recipients() == ["ann@example.com", "bob@example.com"]
    sends = db.get_conn().execute("SELECT user_id, ses_message_id, iso_year, iso_week FROM digest_sends").fetchall()
    assert {(r["user_id"], r["iso_year"], r["iso_week"]) for r in sends} == {(ann, 2025, 8), (bob, 2025, 8)}
    assert {r["ses_message_id"] for r in sends} == {m["id"] for m in mailbox.new()}


def test_the_email_says_what_happened_and_links_a_working_unsubscribe(make_user, digest_queue):
    mailbox = Mailbox()
    ann = with_week(make_user, "ann")
    run_planner(MONDAY_8_UTC)
    run_worker(digest_queue, drain(digest_queue))
    [mail] = mailbox.new()
    assert mail["source"] == "digest@atribuo.app"
    assert mail["subject"] == "Your week in Atribuo: 1 skill levelled up, 1 new skill, +4 levels"
    html, text = mail["html"], mail["body"]
    assert "<strong>Python</strong> 3 → 5: “finally!”" in html and "<strong>Guitar</strong> (Music), level 2" in html
    assert "- Python 3 → 5: “finally!”" in text and "- Guitar (Music), level 2" in text
    assert "Top categories: Programming, Music" in html and "Top categories: Programming, Music" in text
    assert 'href="http://localhost:5173/u/ann"' in html  # back to the profile
    assert '<img src="http://127.0.0.1:3000/api/v1/users/ann/card.png"' in html  # the radar card, as a PNG
    assert "<style" not in html and "<table role=\"presentation\"" in html  # email-client-safe layout
    # RFC 8058: the one-click headers name the same signed link the footer shows
    link = re.fullmatch(r"<(.+)>", mail["headers"]["list-unsubscribe"]).group(1)
    assert mail["headers"]["list-unsubscribe-post"] == "List-Unsubscribe=One-Click"
    assert link.startswith("http://127.0.0.1:3000/api/v1/digest/unsubscribe?token=")
    assert f'href="{link}"' in html and link in text
    token = link.split("token=")[1]
    page = invoke(digest_handler, http_event("GET", "/api/v1/digest/unsubscribe", query={"token": token},
                                             headers={"accept": "text/html,*/*"}))
    assert page.status == 200 and "<form method='post'" in page.body.decode()
    assert not db.get_conn().execute("SELECT digest_opt_out FROM users WHERE id = %s", (ann,)).fetchone()[
        "digest_opt_out"]  # a scanner following the link changes nothing
    response = invoke(digest_handler, http_event("POST", "/api/v1/digest/unsubscribe", query={"token": token},
                                                 body="List-Unsubscribe=One-Click",
                                                 headers={"content-type": "application/x-www-form-urlencoded",
                                                          "accept": "text/html"}))
    assert response.status == 200 and "no longer receive" in response.body.decode()
    assert db.get_conn().execute("SELECT digest_opt_out FROM users WHERE id = %s", (ann,)).fetchone()["digest_opt_out"]
    assert run_planner(MONDAY_8_UTC + timedelta(days=7))["users"] == 0  # next week: nothing for ann


def test_user_who_opts_out_after_planning_gets_nothing(make_user, digest_queue):
    mailbox = Mailbox()
    ann = with_week(make_user, "ann")
    run_planner(MONDAY_8_UTC)
    set_user(db.get_conn(), ann, opt_out=True)
    run_worker(digest_queue, drain(digest_queue))
    assert mailbox.new() == []


def test_an_unsent_claim_is_taken_over_only_after_the_lease(make_user, digest_queue):
    """A worker that died between claim and send: its fresh claim blocks, a stale one is retried."""
    mailbox = Mailbox()
    ann, bob = with_week(make_user, "ann"), with_week(make_user, "bob")
    db.get_conn().execute(
        "INSERT INTO digest_sends (user_id, iso_year, iso_week, claimed_at) VALUES"
        " (%s, 2025, 8, now()), (%s, 2025, 8, now() - interval '1 hour')", (ann, bob))
    run_planner(MONDAY_8_UTC)
    run_worker(digest_queue, drain(digest_queue))
    assert mailbox.recipients() == ["bob@example.com"]
    row = db.get_conn().execute("SELECT attempts, ses_message_id FROM digest_sends WHERE user_id = %s",
                                (bob,)).fetchone()
    assert row["attempts"] == 2 and row["ses_message_id"]


def test_a_failed_send_fails_only_its_record_and_releases_its_claim(make_user, digest_queue, monkeypatch):
    """SES refuses one address: that message is reported for redelivery; the others are done."""
    from shared.digests import pipeline as digests

    monkeypatch.setattr(digests, "USERS_PER_MESSAGE", 1)
    monkeypatch.setattr(digests, "PLANNER_PAGE", 10)
    mailbox = Mailbox()
    good = with_week(make_user, "good")
    bad = with_week(make_user, "bad")
    db.get_conn().execute("UPDATE users SET email = 'not an address' WHERE id = %s", (bad,))
    run_planner(MONDAY_8_UTC)
    messages = drain(digest_queue)
    [response] = run_worker(digest_queue, messages)
    bad_message = next(m["MessageId"] for m in messages if str(bad) in m["Body"])
    assert response == {"batchItemFailures": [{"itemIdentifier": bad_message}]}
    assert mailbox.recipients() == ["good@example.com"]
    claimed = {r["user_id"] for r in db.get_conn().execute("SELECT user_id FROM digest_sends").fetchall()}
    assert claimed == {good}  # the bad user's claim was released, so a redelivery can still send
    db.get_conn().execute("UPDATE users SET email = 'bad@example.com' WHERE id = %s", (bad,))
    run_worker(digest_queue, [m for m in messages if m["MessageId"] == bad_message])
    assert mailbox.recipients() == ["bad@example.com", "good@example.com"]


def test_malformed_message_is_a_batch_item_failure(digest_queue):
    event = load_event("event-sqs-digest")
    event["Records"][0]["body"] = json.dumps({"user_ids": "nope"})
    result = invoke_plain(handler, event)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_sample_event_for_an_unknown_user_sends_nothing(digest_queue):
    mailbox = Mailbox()
    assert invoke_plain(handler, load_event("event-sqs-digest")) == {"batchItemFailures": []}
    assert mailbox.new() == []


class CountingCursor(psycopg.Cursor):
    """Counts every statement executed through the real connection."""

    statements: ClassVar[list[str]] = []

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> CountingCursor:
        CountingCursor.statements.append(str(query))
        return super().execute(query, params, **kwargs)


@pytest.fixture
def count_statements():
    conn = db.get_conn()
    CountingCursor.statements.clear()
    conn.cursor_factory = CountingCursor
    yield CountingCursor.statements
    conn.cursor_factory = psycopg.Cursor


def test_ten_thousand_users_cost_statements_per_page_not_per_user(digest_queue, count_statements):
    """10,000 users, 500 active: planner + worker SQL is a handful of statements per page."""
    from shared.digests import pipeline as digests

    active = seed_users(db.get_conn(), 10_000, active_every=20, activity_at=DURING_WEEK)
    assert active == 500
    mailbox = Mailbox()
    count_statements.clear()
    result = run_planner(MONDAY_8_UTC)
    planner_statements = len(count_statements)
    assert result["users"] == active and result["messages"] == active // digests.USERS_PER_MESSAGE
    # the zones, plus one keyset page per PLANNER_PAGE users (and the empty page that ends the walk)
    assert planner_statements <= 2 + result["pages"]
    count_statements.clear()
    run_worker(digest_queue, drain(digest_queue))
    # compute-and-claim + record, per message (= page of USERS_PER_MESSAGE users)
    assert len(count_statements) == 2 * result["messages"]
    assert len(mailbox.new()) == active
    total = planner_statements + len(count_statements)
    assert total < 20 and total * 25 < active


def test_a_private_profile_gets_no_card_image(make_user, digest_queue):
    """The card of a private profile is a 404: the digest does not show a broken image."""
    mailbox = Mailbox()
    ann = with_week(make_user, "ann")
    db.get_conn().execute("UPDATE users SET privacy_settings = '{\"profile_visibility\": \"private\"}' WHERE id = %s",
                          (ann,))
    run_planner(MONDAY_8_UTC)
    run_worker(digest_queue, drain(digest_queue))
    [mail] = mailbox.new()
    assert "<img" not in mail["html"] and "card.png" not in mail["body"]
