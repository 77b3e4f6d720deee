"""SES bounce/complaint feedback (issue 15) through the real handler, with the SNS event AWS delivers.

A bounce delivered twice suppresses the address once; the digest and the account mails skip it.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from functions.mail_feedback.app import handler
from shared.clients import db
from tests.support import invoke_plain, load_event
from tests.support.digests import add_skill, digest_queue, drain, run_planner, run_worker, set_user  # noqa: F401
from tests.support.mail import Mailbox

MONDAY_8_UTC = datetime(2025, 2, 17, 8, 0, tzinfo=UTC)


def with_message(**message: object) -> dict:
    event = load_event("event-sns-ses-bounce")
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event


def suppressed() -> list[tuple[str, str]]:
    return [(r["email"], r["reason"]) for r in
            db.get_conn().execute("SELECT email, reason FROM email_suppressions ORDER BY email").fetchall()]


def test_a_bounce_delivered_twice_suppresses_once():
    event = load_event("event-sns-ses-bounce")
    assert invoke_plain(handler, event) == {"suppressed": 1}
    assert invoke_plain(handler, copy.deepcopy(event)) == {"suppressed": 0}  # SNS redelivery
    assert suppressed() == [("bouncing@example.com", "bounce")]


def test_complaints_suppress_and_transient_bounces_do_not():
    complaint = with_message(eventType="Complaint", complaint={
        "feedbackId": "c-1", "complainedRecipients": [{"emailAddress": "Angry@example.com"}]})
    transient = with_message(notificationType="Bounce", bounce={
        "bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "full@example.com"}]})
    delivery = with_message(notificationType="Delivery", delivery={"recipients": ["ok@example.com"]})
    for event in (complaint, transient, delivery, with_message(nonsense=True)):
        invoke_plain(handler, event)
    broken = load_event("event-sns-ses-bounce")
    broken["Records"][0]["Sns"]["Message"] = "not json"
    assert invoke_plain(handler, broken) == {"suppressed": 0}
    assert suppressed() == [("angry@example.com", "complaint")]


def test_the_digest_skips_a_suppressed_address(make_user, digest_queue):  # noqa: F811
    mailbox = Mailbox()
    names = ("bouncing", "fine")
    for name in names:
        user, _ = make_user(name, email=f"{name}@example.com")
        set_user(db.get_conn(), user["id"])
        add_skill(db.get_conn(), user["id"], "Python", level=3, created_at=MONDAY_8_UTC - timedelta(days=2))
    invoke_plain(handler, load_event("event-sns-ses-bounce"))
    assert run_planner(MONDAY_8_UTC)["users"] == 1
    run_worker(digest_queue, drain(digest_queue))
    assert [m["destinations"]["ToAddresses"] for m in mailbox.new()] == [["fine@example.com"]]


@pytest.mark.usefixtures("mail_queue")
def test_account_mail_skips_a_suppressed_address():
    from tests.functions.auth.test_app import register

    invoke_plain(handler, load_event("event-sns-ses-bounce"))
    mailbox = Mailbox()
    register("bouncer", "bouncing@example.com")
    assert mailbox.new() == []
