"""Step-up (issue 15): DELETE /me and POST /me/email take the password OR a fresh sign-in.

A fresh sign-in is an access token whose ``auth_time`` is at most ``reauth_window_s`` old; sign-ins
set it (password, provider, reset link), ``/auth/refresh`` never does. An account without a password
(issue 16) proves itself by signing in again through the real local OpenID provider.
"""

from __future__ import annotations

import time
import types
import uuid

import jwt
import pytest

from shared.clients import db
from shared.identity import reauth
from tests.functions.auth.test_app import PASSWORD, bearer, call, login, refresh, register
from tests.functions.auth.test_delete_account import rows_of
from tests.functions.auth.test_oauth import google_user, sign_in
from tests.support.digests import avatar_bucket  # noqa: F401 - fixture
from tests.support.mail import Mailbox

pytestmark = pytest.mark.usefixtures("mail_queue", "avatar_bucket")


def claims(access_token: str) -> dict:
    return jwt.decode(access_token, options={"verify_signature": False})


def later(monkeypatch, seconds: int) -> None:
    """Move the step-up's clock ``seconds`` ahead (the token itself is still valid)."""
    now = time.time()
    monkeypatch.setattr(reauth, "time", types.SimpleNamespace(time=lambda: now + seconds))


def test_sign_ins_stamp_auth_time_and_refresh_does_not():
    pair = register()
    assert abs(claims(pair["access_token"])["auth_time"] - time.time()) < 60
    signed_in = login()
    assert signed_in.status == 200 and "auth_time" in claims(signed_in.json["access_token"])
    refreshed = refresh(signed_in.json["refresh_token"])
    assert refreshed.status == 200 and "auth_time" not in claims(refreshed.json["access_token"])


def test_a_fresh_password_sign_in_deletes_without_the_password_and_a_stale_one_needs_it(monkeypatch):
    pair = register()
    user_id = uuid.UUID(pair["user"]["id"])
    later(monkeypatch, 301)
    stale = call("DELETE", "/me", {}, headers=bearer(pair))
    assert stale.status == 403 and stale.json["error"]["code"] == "reauthentication_required", stale
    assert stale.json["error"]["details"][0]["field"] == "body.password"
    assert rows_of(user_id)["users"] == 1
    monkeypatch.undo()
    assert call("DELETE", "/me", headers=bearer(pair)).status == 204  # no body at all: a fresh sign-in is enough
    assert rows_of(user_id)["users"] == 0


def test_a_refreshed_token_is_not_a_fresh_sign_in_but_the_password_still_works():
    pair = register()
    refreshed = refresh(pair["refresh_token"]).json
    refused = call("DELETE", "/me", {}, headers=bearer(refreshed))
    assert refused.status == 403 and refused.json["error"]["code"] == "reauthentication_required"
    assert call("DELETE", "/me", {"password": PASSWORD}, headers=bearer(refreshed)).status == 204


def test_an_account_without_a_password_deletes_itself_after_signing_in_again(stack):
    sub = google_user(stack, "ranger")
    created = sign_in(stack, sub)
    assert created.status == 200 and created.json["outcome"] == "created", created
    user_id = uuid.UUID(created.json["user"]["id"])
    tokens = {"access_token": created.json["access_token"]}
    mailbox = Mailbox()
    # a password it does not have: 409 password_not_set, nothing deleted
    guessed = call("DELETE", "/me", {"password": "any password at all"}, headers=bearer(tokens))
    assert guessed.status == 409 and guessed.json["error"]["code"] == "password_not_set"
    # a token kept from earlier (refreshed): not a fresh sign-in
    stale = refresh(created.json["refresh_token"]).json
    refused = call("DELETE", "/me", {}, headers=bearer(stale))
    assert refused.status == 403 and refused.json["error"]["code"] == "reauthentication_required"
    assert rows_of(user_id)["users"] == 1
    # sign in again through the provider, then delete with that token and no password
    again = sign_in(stack, sub)
    assert again.status == 200 and again.json["outcome"] == "signed_in", again
    deleted = call("DELETE", "/me", {}, headers=bearer({"access_token": again.json["access_token"]}))
    assert deleted.status == 204, deleted
    assert rows_of(user_id) == dict.fromkeys(rows_of(user_id), 0)
    assert mailbox.take("ranger@example.com")["subject"] == "Your Atribuo account was deleted"
    after = sign_in(stack, sub)  # the identity went with the account; its username stays reserved
    assert after.status == 409 and after.json["error"]["code"] == "username_unavailable", after


def test_an_account_without_a_password_changes_its_address_after_a_fresh_sign_in(stack, monkeypatch):
    sub = google_user(stack, "ranger")
    created = sign_in(stack, sub)
    token = {"access_token": created.json["access_token"]}
    mailbox = Mailbox()
    later(monkeypatch, 301)
    stale = call("POST", "/me/email", {"new_email": "new@example.com"}, headers=bearer(token))
    assert stale.status == 403 and stale.json["error"]["code"] == "reauthentication_required"
    assert mailbox.new() == []
    monkeypatch.undo()
    asked = call("POST", "/me/email", {"new_email": "new@example.com"}, headers=bearer(token))
    assert asked.status == 202, asked
    assert mailbox.take("new@example.com")["subject"] == "Confirm your new e-mail address for Atribuo"
    assert db.get_conn().execute("SELECT email FROM users").fetchone()["email"] == "ranger@example.com"
