"""Verified e-mail and password recovery (issue 15), end to end through moto's SES.

Each flow runs through the real handlers (auth, mail worker), the real Postgres and Redis, and moto's
SES and SQS; tokens are read from the mails moto "sent". Time is moved in Postgres, never by sleeping.
"""

from __future__ import annotations

import pytest

from shared.clients import db
from tests.functions.auth.test_app import IP_A, IP_B, PASSWORD, bearer, call, login, refresh, register
from tests.support.mail import Mailbox, run_mail_worker, token_in

pytestmark = pytest.mark.usefixtures("mail_queue")
NEW_PASSWORD = "an entirely new passphrase"


def verified(username: str) -> bool:
    return db.get_conn().execute("SELECT email_verified_at IS NOT NULL AS v FROM users WHERE username = %s",
                                 (username,)).fetchone()["v"]


def expire_tokens() -> None:
    db.get_conn().execute("UPDATE account_tokens SET expires_at = now() - interval '1 second'")


# --- verification ------------------------------------------------------------------------------------

def test_registration_mails_a_link_that_verifies_once():
    mailbox = Mailbox()
    pair = register("quester", "quester@example.com")
    assert pair["user"]["email_verified"] is False
    mail = mailbox.take("quester@example.com")
    assert mail["subject"] == "Confirm your e-mail address for Atribuo"
    assert mail["headers"]["from"] == "Atribuo <accounts@atribuo.app>"
    assert "multipart/alternative" in mail["headers"]["content-type"]
    token = token_in(mail)
    assert len(token) >= 43  # 256 bits, URL-safe base64
    stored = db.get_conn().execute("SELECT token_hash FROM account_tokens").fetchone()["token_hash"]
    assert token.encode() not in bytes(stored)  # stored hashed
    first = call("POST", "/auth/email/verify", {"token": token})
    assert first.status == 200 and first.json["email_verified"] is True, first
    assert verified("quester")
    again = call("POST", "/auth/email/verify", {"token": token})
    assert again.status == 400 and again.json["error"]["code"] == "invalid_token"
    assert call("GET", "/auth/me", headers=bearer(pair)).json["email_verified"] is True


def test_an_expired_verification_link_is_refused():
    mailbox = Mailbox()
    register()
    token = token_in(mailbox.take("quester@example.com"))
    expire_tokens()
    response = call("POST", "/auth/email/verify", {"token": token})
    assert response.status == 400 and response.json["error"]["code"] == "invalid_token"
    assert not verified("quester")


def test_resend_supersedes_the_old_link_and_is_throttled():
    mailbox = Mailbox()
    pair = register()
    old = token_in(mailbox.take("quester@example.com"))
    for _ in range(3):
        assert call("POST", "/auth/email/verify/resend", headers=bearer(pair)).status == 202
    mails = mailbox.new("quester@example.com")
    assert len(mails) == 3
    limited = call("POST", "/auth/email/verify/resend", headers=bearer(pair))
    assert limited.status == 429 and "retry-after" in limited.headers
    assert call("POST", "/auth/email/verify", {"token": old}).status == 400  # superseded
    assert call("POST", "/auth/email/verify", {"token": token_in(mails[-1])}).status == 200
    done = call("POST", "/auth/email/verify/resend", headers={"authorization": bearer(pair)["authorization"]},
                ip=IP_B)
    assert done.status in (409, 429)  # verified now (409), unless the hourly budget answers first


def test_unknown_and_malformed_tokens_are_refused_in_the_envelope():
    assert call("POST", "/auth/email/verify", {"token": "A" * 43}).json["error"]["code"] == "invalid_token"
    bad = call("POST", "/auth/email/verify", {"token": "not a token!"})
    assert bad.status == 422 and bad.json["error"]["details"][0]["field"] == "body.token"


# --- recovery ------------------------------------------------------------------------------------------

def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(mail_queue):
    register("quester", "quester@example.com")
    mailbox = Mailbox()
    known = call("POST", "/auth/password/forgot", {"email": "quester@example.com"})
    unknown = call("POST", "/auth/password/forgot", {"email": "nobody@example.com"}, ip=IP_B)
    assert known.status == unknown.status == 202
    assert known.body == unknown.body
    assert {k: v for k, v in known.headers.items() if k not in ("x-request-id", "content-length")} == \
        {k: v for k, v in unknown.headers.items() if k not in ("x-request-id", "content-length")}
    assert mailbox.new() == []  # the request itself sends nothing: the worker does
    run_mail_worker(mail_queue)
    assert [m["destinations"]["ToAddresses"] for m in mailbox.new()] == [["quester@example.com"]]


def test_reset_link_sets_the_password_kills_old_sessions_and_works_once(mail_queue):
    first = register("quester", "quester@example.com")
    other_device = login(ip=IP_B).json
    mailbox = Mailbox()
    assert call("POST", "/auth/password/forgot", {"email": "Quester@Example.com"}).status == 202
    run_mail_worker(mail_queue)
    mail = mailbox.take("quester@example.com")
    assert mail["subject"] == "Reset your Atribuo password"
    token = token_in(mail)
    reset = call("POST", "/auth/password/reset", {"token": token, "new_password": NEW_PASSWORD})
    assert reset.status == 200, reset
    assert set(reset.json) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert reset.json["user"]["email_verified"] is True  # the link proved the address
    for old in (first["refresh_token"], other_device["refresh_token"]):
        assert refresh(old).status == 401
    assert refresh(reset.json["refresh_token"]).status == 200
    assert login(password=PASSWORD).status == 401 and login(password=NEW_PASSWORD).status == 200
    again = call("POST", "/auth/password/reset", {"token": token, "new_password": "yet another passphrase"})
    assert again.status == 400 and again.json["error"]["code"] == "invalid_token"


def test_an_expired_reset_link_is_refused_and_changes_nothing(mail_queue):
    pair = register()
    mailbox = Mailbox()
    call("POST", "/auth/password/forgot", {"email": "quester@example.com"})
    run_mail_worker(mail_queue)
    token = token_in(mailbox.take("quester@example.com"))
    expire_tokens()
    response = call("POST", "/auth/password/reset", {"token": token, "new_password": NEW_PASSWORD})
    assert response.status == 400
    assert refresh(pair["refresh_token"]).status == 200 and login().status == 200


def test_a_weak_new_password_does_not_spend_the_link(mail_queue):
    register()
    mailbox = Mailbox()
    call("POST", "/auth/password/forgot", {"email": "quester@example.com"})
    run_mail_worker(mail_queue)
    token = token_in(mailbox.take("quester@example.com"))
    weak = call("POST", "/auth/password/reset", {"token": token, "new_password": "quester@example.com"})
    assert weak.status == 422 and weak.json["error"]["details"][0]["field"] == "body.new_password"
    assert call("POST", "/auth/password/reset", {"token": token, "new_password": NEW_PASSWORD}).status == 200


def test_forgot_password_is_throttled_per_address_and_per_ip(monkeypatch):
    from shared.clients.registry import reset_all as reset_clients

    monkeypatch.setenv("FORGOT_PER_IP_PER_HOUR", "5")
    reset_clients()
    for _ in range(3):
        assert call("POST", "/auth/password/forgot", {"email": "someone@example.com"}).status == 202
    by_address = call("POST", "/auth/password/forgot", {"email": "SOMEONE@example.com"}, ip=IP_B)
    assert by_address.status == 429
    assert call("POST", "/auth/password/forgot", {"email": "a@example.com"}).status == 202
    assert call("POST", "/auth/password/forgot", {"email": "b@example.com"}).status == 202
    by_ip = call("POST", "/auth/password/forgot", {"email": "c@example.com"})
    assert by_ip.status == 429 and by_ip.json["error"]["code"] == "rate_limited"


def test_forgot_password_fails_closed_when_redis_is_down(stack):
    stack.stop_bridge()
    try:
        from shared.clients.registry import reset_all as reset_clients

        reset_clients()
        response = call("POST", "/auth/password/forgot", {"email": "quester@example.com"}, ip=IP_A)
    finally:
        stack.start_bridge()
    assert response.status == 503


def test_suppressed_addresses_get_no_mail(mail_queue):
    from shared.repositories import account_tokens

    mailbox = Mailbox()
    db.run(lambda conn: account_tokens.suppress(conn, email="Quester@example.com", reason="bounce", feedback_id="f"))
    pair = register()
    call("POST", "/auth/password/forgot", {"email": "quester@example.com"})
    run_mail_worker(mail_queue)
    assert mailbox.new() == []
    resend = call("POST", "/auth/email/verify/resend", headers=bearer(pair))
    assert resend.status == 409 and resend.json["error"]["code"] == "email_suppressed"


# --- change of address -----------------------------------------------------------------------------

def test_changing_the_address_needs_the_password_switches_only_when_proven_and_tells_the_old_one():
    pair = register("quester", "quester@example.com")
    mailbox = Mailbox()
    wrong = call("POST", "/me/email", {"password": "not it", "new_email": "new@example.com"}, headers=bearer(pair))
    assert wrong.status == 403 and mailbox.new() == []
    asked = call("POST", "/me/email", {"password": PASSWORD, "new_email": "New@Example.com"}, headers=bearer(pair))
    assert asked.status == 202, asked
    mail = mailbox.take("New@example.com")  # EmailStr normalises the domain, not the local part
    assert mail["subject"] == "Confirm your new e-mail address for Atribuo"
    me = call("GET", "/auth/me", headers=bearer(pair)).json
    assert me["email"] == "quester@example.com"  # nothing switches before the link is used
    version = db.get_conn().execute("SELECT sync_version FROM users").fetchone()["sync_version"]
    switched = call("POST", "/auth/email/verify", {"token": token_in(mail)})
    assert switched.status == 200 and switched.json["email"] == "New@example.com", switched
    assert switched.json["email_verified"] is True
    told = mailbox.take("quester@example.com")
    assert told["subject"] == "Your Atribuo e-mail address was changed" and "N***@example.com" in told["body"]
    change = db.get_conn().execute("SELECT version, entity, data FROM changes ORDER BY version DESC LIMIT 1").fetchone()
    assert change["version"] == version + 1 and change["entity"] == "profile"  # other devices hear of it
    assert change["data"]["email"] == "New@example.com"
    assert login("new@example.com").status == 200 and login("quester@example.com").status == 401
    assert call("POST", "/auth/email/verify", {"token": token_in(mail)}).status == 400  # once


def test_an_address_in_use_is_refused_and_a_race_for_it_is_a_409():
    pair = register("quester", "quester@example.com")
    register("other", "other@example.com")
    taken = call("POST", "/me/email", {"password": PASSWORD, "new_email": "OTHER@example.com"}, headers=bearer(pair))
    assert taken.status == 409 and taken.json["error"]["details"][0]["field"] == "body.new_email"
    mailbox = Mailbox()
    assert call("POST", "/me/email", {"password": PASSWORD, "new_email": "free@example.com"},
                headers=bearer(pair)).status == 202
    token = token_in(mailbox.take("free@example.com"))
    register("racer", "free@example.com")  # someone takes the address before the link is used
    raced = call("POST", "/auth/email/verify", {"token": token})
    assert raced.status == 409 and raced.json["error"]["code"] == "already_exists"
    assert call("GET", "/auth/me", headers=bearer(pair)).json["email"] == "quester@example.com"


def test_recovery_adds_a_password_to_an_account_that_signs_in_only_through_a_provider(stack, mail_queue):
    """Issue 16: an OAuth-only account has no password; password login says so (409), and the
    recovery link is how it gets one — afterwards both ways sign in."""
    from tests.functions.auth.test_oauth import google_user, sign_in

    created = sign_in(stack, google_user(stack, "ranger"))
    assert created.status == 200 and created.json["outcome"] == "created", created
    no_password = login("ranger")
    assert no_password.status == 409 and no_password.json["error"]["code"] == "password_not_set"
    mailbox = Mailbox()
    assert call("POST", "/auth/password/forgot", {"email": "ranger@example.com"}).status == 202
    run_mail_worker(mail_queue)
    reset = call("POST", "/auth/password/reset", {"token": token_in(mailbox.take("ranger@example.com")),
                                                   "new_password": NEW_PASSWORD})
    assert reset.status == 200, reset
    assert login("ranger", password=NEW_PASSWORD).status == 200
    assert login("ranger", password="not the new passphrase").status == 401
