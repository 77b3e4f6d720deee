"""Two languages at the HTTP edge and in the account mails (issue 17), through the real handlers,
Postgres, Redis and moto's SES: ``Accept-Language`` picks the language of an anonymous answer, the
user's own setting (``PATCH /me/profile {"locale"}``, carried by the next token) beats it, codes
never change, and the envelope keeps its shape.
"""

from __future__ import annotations

import pytest

from functions.profiles.app import handler as profiles_handler
from shared.clients import db
from tests.functions.auth.test_app import IP_B, PASSWORD, bearer, call, login, refresh, register
from tests.support import http_event, invoke
from tests.support.mail import Mailbox, run_mail_worker

ID = {"accept-language": "id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7"}  # what an Indonesian Chrome sends


def set_locale(pair: dict, locale: str | None) -> dict:
    """PATCH the setting and sign in again (refresh), so the new access token carries it."""
    response = invoke(profiles_handler, http_event("PATCH", "/api/v1/me/profile", route="/api/v1/me/profile",
                                                   body={"locale": locale}, headers=bearer(pair)))
    assert response.status == 200 and response.json["locale"] == locale, response
    fresh = refresh(pair["refresh_token"])
    assert fresh.status == 200, fresh
    return fresh.json


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status == status, response
    assert set(response.json) == {"error"} and set(response.json["error"]) == {"code", "message", "details"}
    assert response.json["error"]["code"] == code
    return response.json["error"]


def test_accept_language_id_gives_the_same_code_in_indonesian():
    english = assert_envelope(call("GET", "/auth/me"), 401, "unauthorized")
    indonesian = call("GET", "/auth/me", headers=ID)
    error = assert_envelope(indonesian, 401, "unauthorized")
    assert (english["message"], error["message"]) == ("missing bearer token", "token bearer tidak ada")
    assert indonesian.headers["content-language"] == "id" and indonesian.headers["vary"] == "Accept-Language"
    assert indonesian.headers["cache-control"] == "no-store"
    assert indonesian.headers["www-authenticate"] == "Bearer"  # the error's own headers stay


@pytest.mark.parametrize(("header", "language"), [
    ("en;q=0.5, id;q=0.9", "id"),  # weight, not order
    ("id;q=0.2, en", "en"),
    ("fr-FR, de;q=0.8", "en"),  # neither of ours: English
    ("en;q=0, *", "id"),
    ("id;q=garbage", "en"),
])
def test_q_values_choose_and_an_unknown_language_is_english(header, language):
    response = call("POST", "/auth/login", {"username": "nobody", "password": "wrong password 123"},
                    headers={"accept-language": header})
    error = assert_envelope(response, 401, "invalid_credentials")
    assert error["message"] == {"en": "invalid username or password", "id": "nama pengguna atau kata sandi salah"}[
        language]
    assert response.headers["content-language"] == language


def test_validation_details_are_translated_and_keep_field_and_type():
    body = {"username": "quester", "email": "not-an-address", "password": "password"}
    english = assert_envelope(call("POST", "/auth/register", {**body, "extra": 1}), 422, "validation_error")
    error = assert_envelope(call("POST", "/auth/register", {**body, "extra": 1}, headers=ID), 422, "validation_error")
    assert [(d["field"], d["type"]) for d in error["details"]] == [(d["field"], d["type"]) for d in english["details"]]
    assert error["message"] == english["message"].replace("invalid input:", "masukan tidak valid:")
    extra = next(d for d in error["details"] if d["type"] == "extra_forbidden")
    assert extra["message"] == "Kolom tambahan tidak diizinkan"
    assert all(d["message"] for d in error["details"])


def test_a_weak_password_is_refused_in_indonesian():
    response = call("POST", "/auth/register", {"username": "quester", "email": "q@example.com",
                                               "password": "quester-and-more"}, headers=ID)
    error = assert_envelope(response, 422, "weak_password")
    assert error["message"].startswith("password tidak diterima: kata sandi ini memuat nama penggunamu")
    assert error["details"][0]["field"] == "body.password" and error["details"][0]["type"] == "weak_password"


def test_the_users_setting_beats_the_header():
    pair = set_locale(register(), "en")
    wrong = {"current_password": "not the password", "new_password": "an entirely new passphrase"}
    response = call("POST", "/auth/password", wrong, headers={**bearer(pair), **ID})
    error = assert_envelope(response, 403, "invalid_credentials")
    assert error["message"] == "the current password is incorrect" and error["details"][0]["message"] == "incorrect"
    assert response.headers["content-language"] == "en" and "vary" not in response.headers  # the header did not decide
    pair = set_locale(pair, "id")
    response = call("POST", "/auth/password", wrong, headers={**bearer(pair), "accept-language": "en"})
    error = assert_envelope(response, 403, "invalid_credentials")
    assert (error["message"], error["details"][0]["message"]) == ("kata sandi saat ini salah", "salah")
    assert login().json["access_token"]  # a fresh sign-in carries the setting too:
    response = call("POST", "/auth/password", wrong, headers=bearer(login().json))
    assert assert_envelope(response, 403, "invalid_credentials")["message"] == "kata sandi saat ini salah"
    pair = set_locale(pair, None)  # null: back to the header
    response = call("POST", "/auth/password", wrong, headers={**bearer(pair), **ID})
    assert assert_envelope(response, 403, "invalid_credentials")["message"] == "kata sandi saat ini salah"
    response = call("POST", "/auth/password", wrong, headers=bearer(pair))
    assert assert_envelope(response, 403, "invalid_credentials")["message"] == "the current password is incorrect"


def test_the_setting_is_validated():
    pair = register()
    response = invoke(profiles_handler, http_event("PATCH", "/api/v1/me/profile", route="/api/v1/me/profile",
                                                   body={"locale": "fr"}, headers={**bearer(pair), **ID}))
    error = assert_envelope(response, 422, "validation_error")
    detail = error["details"][0]
    assert (detail["field"], detail["message"]) == ("body.locale", "Masukan harus 'en' atau 'id'")


# --- mails, through moto's SES --------------------------------------------------------------------

@pytest.mark.usefixtures("mail_queue")
def test_registration_mails_in_the_browsers_language():
    mailbox = Mailbox()
    response = call("POST", "/auth/register", {"username": "budi", "email": "budi@example.com",
                                               "password": PASSWORD}, headers=ID)
    assert response.status == 201, response
    mail = mailbox.take("budi@example.com")
    assert mail["subject"] == "Konfirmasi alamat e-mail kamu untuk Atribuo"
    assert "Hai budi, apakah ini alamatmu?" in mail["body"] and "Konfirmasi alamat saya" in mail["html"]
    assert '<html lang="id">' in mail["html"] and "Atau tempel tautan ini di peramban kamu:" in mail["html"]
    register("ann", "ann@example.com")  # no header: English
    assert mailbox.take("ann@example.com")["subject"] == "Confirm your e-mail address for Atribuo"


def test_password_reset_mail_is_in_the_users_language(mail_queue):
    set_locale(register(), "id")
    mailbox = Mailbox()
    assert call("POST", "/auth/password/forgot", {"email": "quester@example.com"}).status == 202  # no header
    run_mail_worker(mail_queue)
    mail = mailbox.take("quester@example.com")
    assert mail["subject"] == "Atur ulang kata sandi Atribuo kamu"
    assert "Tautan ini hanya berlaku sekali, selama" in mail["body"]
    register("ann", "ann@example.com")  # chose nothing: the asker's Accept-Language travels with the request
    mailbox.take("ann@example.com")
    assert call("POST", "/auth/password/forgot", {"email": "ann@example.com"}, headers=ID, ip=IP_B).status == 202
    run_mail_worker(mail_queue)
    assert mailbox.take("ann@example.com")["subject"] == "Atur ulang kata sandi Atribuo kamu"


@pytest.mark.usefixtures("mail_queue")
def test_deletion_confirmation_is_in_the_users_language():
    mailbox = Mailbox()
    pair = set_locale(register(), "id")
    mailbox.take("quester@example.com")
    response = call("DELETE", "/me", {"password": PASSWORD}, headers={**bearer(pair), "accept-language": "en"})
    assert response.status == 204, response
    mail = mailbox.take("quester@example.com")
    assert mail["subject"] == "Akun Atribuo kamu telah dihapus" and "Sampai jumpa, quester" in mail["body"]
    assert db.get_conn().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


def test_export_and_import_carry_the_setting():
    pair = set_locale(register(), "id")
    document = call("GET", "/me/export", headers=bearer(pair)).json
    assert document["settings"]["locale"] == "id" and document["profile"]["locale"] == "id"
    other = register("ann", "ann@example.com")
    response = call("POST", "/me/import", document, headers={**bearer(other), "idempotency-key": "import-1"})
    assert response.status == 200, response
    assert db.get_conn().execute("SELECT locale FROM users WHERE username = 'ann'").fetchone()["locale"] == "id"
