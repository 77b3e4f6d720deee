"""Accounts that predate e-mail verification (issue 15, migration 019) are sent one link each.

Digests go only to verified addresses, so without this every account made before verification
existed would silently stop getting them. The daily maintenance enqueues one invitation per such
account that still wants digests (throttled per run), the real mail worker mails the same link
registration sends (through moto's SES), and nobody is asked twice.
"""

from __future__ import annotations

import pytest

from functions.maintenance.app import handler
from local.lambda_context import LambdaContext
from shared.clients import db
from shared.clients.registry import reset_all
from shared.repositories.users import create_user
from tests.functions.auth.test_app import call, register
from tests.support import load_event
from tests.support.mail import Mailbox, mail_queue, run_mail_worker, token_in  # noqa: F401 - fixture

PER_RUN = 3


@pytest.fixture(autouse=True)
def throttle(monkeypatch):
    monkeypatch.setenv("VERIFICATION_INVITES_PER_RUN", str(PER_RUN))
    reset_all()


def maintain() -> dict:
    return handler(load_event("event-scheduled-maintenance"), LambdaContext(function_name="maintenance",
                                                                          timeout_s=300))


def old_account(name: str, **state) -> None:
    """An account as it was before migration 012: an address nobody proved, no link ever sent."""
    conn = db.get_conn()
    user = create_user(conn, username=name, email=f"{name}@example.com", password_hash="!unusable")
    if state.get("opted_out"):
        conn.execute("UPDATE users SET digest_opt_out = true WHERE id = %s", (user["id"],))
    if state.get("verified"):
        conn.execute("UPDATE users SET email_verified_at = now(), verification_sent_at = now() WHERE id = %s",
                     (user["id"],))
    if state.get("suppressed"):
        conn.execute("INSERT INTO email_suppressions (email, reason) VALUES (%s, 'bounce')", (f"{name}@example.com",))


def test_old_unverified_subscribers_get_one_link_each_throttled_and_never_twice(mail_queue):  # noqa: F811
    for n in range(4):
        old_account(f"old{n}")
    old_account("optedout", opted_out=True)
    old_account("verified", verified=True)
    old_account("bounced", suppressed=True)
    register("newcomer", "newcomer@example.com")  # mailed at registration: not invited again
    mailbox = Mailbox()

    first = maintain()
    assert first["verification_invites"] == PER_RUN and first["complete"], first
    run_mail_worker(mail_queue)
    mails = mailbox.new()
    assert len(mails) == PER_RUN
    olds = {f"old{n}@example.com" for n in range(4)}
    first_three = {m["destinations"]["ToAddresses"][0] for m in mails}
    assert len(first_three) == PER_RUN and first_three < olds  # in id order, whoever comes first
    mailbox = Mailbox()

    second = maintain()  # the next day: the rest of them, within the limit
    assert second["verification_invites"] == 1, second
    run_mail_worker(mail_queue)
    (last,) = olds - first_three
    mail = mailbox.take(last)
    assert mailbox.new() == []  # not the opted-out, the verified, the bounced or the newcomer

    mailbox = Mailbox()
    assert maintain()["verification_invites"] == 0  # nobody is asked twice
    run_mail_worker(mail_queue)
    assert mailbox.new() == []

    verified = call("POST", "/auth/email/verify", {"token": token_in(mail)})
    assert verified.status == 200 and verified.json["email_verified"] is True, verified


def test_an_account_verified_between_enqueue_and_mail_is_not_mailed(mail_queue):  # noqa: F811
    old_account("old0")
    assert maintain()["verification_invites"] == 1
    db.get_conn().execute("UPDATE users SET email_verified_at = now()")
    mailbox = Mailbox()
    run_mail_worker(mail_queue)
    assert mailbox.new() == []


def test_a_stage_without_the_mail_queue_invites_nobody(monkeypatch):
    old_account("old0")
    monkeypatch.delenv("MAIL_QUEUE_URL", raising=False)
    reset_all()
    assert "verification_invites" not in maintain()
    assert db.get_conn().execute("SELECT verification_sent_at FROM users").fetchone()["verification_sent_at"] is None
