"""The security log (issue 15): what each account event writes, and GET /me/security-events."""

from __future__ import annotations

import jwt
import pytest

from functions.auth.app import handler
from shared.clients import db
from tests.functions.auth.test_app import IP_B, PASSWORD, bearer, call, login, register
from tests.support import Response, http_event, invoke
from tests.support.mail import Mailbox, run_mail_worker, token_in

NEW_PASSWORD = "an entirely new passphrase"


def log(pair: dict | None, **query: object) -> Response:
    headers = bearer(pair) if pair else None
    return invoke(handler, http_event("GET", "/api/v1/me/security-events", headers=headers,
                                      query={k: str(v) for k, v in query.items()}))


def kinds(pair: dict) -> list[str]:
    response = log(pair)
    assert response.status == 200, response
    return [e["kind"] for e in response.json["events"]]


def test_sign_ins_and_failures_are_logged_with_where_they_came_from():
    first = register()
    assert login(password="wrong guess", ip=IP_B).status == 401
    assert call("POST", "/auth/login", {"username": "quester", "password": PASSWORD},
                headers={"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}).status == 200
    response = call("GET", "/me/security-events", headers=bearer(first))
    events = response.json["events"]
    assert [e["kind"] for e in events] == ["sign_in", "sign_in_failed", "sign_in"]  # newest first
    assert events[0]["device_name"] == "Firefox on Linux" and events[0]["ip_prefix"] == "198.51.100.0/24"
    assert events[1]["ip_prefix"] == "198.51.100.0/24" and events[1]["session_id"] is None
    assert events[2]["session_id"] == jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]
    assert response.headers["cache-control"] == "no-store"


def test_a_failed_sign_in_for_no_account_writes_nothing_and_answers_the_same():
    register()
    unknown = login("nobody", "wrong guess")
    wrong = login("quester", "wrong guess")
    assert unknown.json == wrong.json
    rows = db.get_conn().execute("SELECT kind FROM security_events ORDER BY id").fetchall()
    assert [r["kind"] for r in rows] == ["sign_in", "sign_in_failed"]


def test_password_change_logout_all_and_device_sign_out_are_logged():
    pair = register()
    other = login(ip=IP_B).json
    changed = call("POST", "/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                   headers=bearer(pair)).json
    third = login(password=NEW_PASSWORD).json
    sid = jwt.decode(third["access_token"], options={"verify_signature": False})["sid"]
    assert call("DELETE", f"/me/sessions/{sid}", headers=bearer(changed)).status == 204
    assert call("POST", "/auth/logout-all", headers=bearer(changed)).status == 204
    assert kinds(changed) == ["sessions_revoked", "session_revoked", "sign_in", "password_changed", "sign_in",
                              "sign_in"]
    assert other  # signed in before the change


@pytest.mark.usefixtures("mail_queue")
def test_verification_and_reset_are_logged(mail_queue):
    mailbox = Mailbox()
    pair = register()
    assert call("POST", "/auth/email/verify", {"token": token_in(mailbox.take("quester@example.com"))}).status == 200
    call("POST", "/auth/password/forgot", {"email": "quester@example.com"}, ip=IP_B)
    run_mail_worker(mail_queue)
    reset = call("POST", "/auth/password/reset",
                 {"token": token_in(mailbox.take("quester@example.com")), "new_password": NEW_PASSWORD}).json
    events = call("GET", "/me/security-events", headers=bearer(reset)).json["events"]
    assert [e["kind"] for e in events] == ["password_reset", "password_reset_requested", "email_verified", "sign_in"]
    assert events[1]["ip_prefix"] == "198.51.100.0/24"  # where the reset was asked for (IP_B's /24)
    assert pair


def test_the_log_pages_and_shows_only_the_callers_events():
    pair = register()
    for _ in range(4):
        login(password="wrong guess")
    other = register("other")
    first = log(pair, limit=2).json
    assert len(first["events"]) == 2 and first["next_before"] == first["events"][-1]["id"]
    rest = log(pair, limit=10, before=first["next_before"]).json
    assert len(rest["events"]) == 3 and rest["next_before"] is None
    assert [e["kind"] for e in first["events"] + rest["events"]] == ["sign_in_failed"] * 4 + ["sign_in"]
    assert kinds(other) == ["sign_in"]
    assert log(pair, limit=0).status == 422
    assert log(None).status == 401
