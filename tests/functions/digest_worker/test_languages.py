"""The weekly digest in the user's language (issue 17), sent through moto's SES, and its unsubscribe
page in the language the browser asks for."""

from __future__ import annotations

from functions.digest.app import handler as digest_handler
from shared.clients import db
from tests.functions.digest_worker.test_app import MONDAY_8_UTC, with_week
from tests.support import http_event, invoke
from tests.support.digests import Mailbox, drain, run_planner, run_worker


def test_the_digest_is_in_indonesian_for_a_user_who_chose_it(make_user, digest_queue):
    mailbox = Mailbox()
    budi = with_week(make_user, "budi")
    with_week(make_user, "ann")  # chose nothing: English
    db.get_conn().execute("UPDATE users SET locale = 'id' WHERE id = %s", (budi,))
    run_planner(MONDAY_8_UTC)
    run_worker(digest_queue, drain(digest_queue))
    mails = {m["destinations"]["ToAddresses"][0]: m for m in mailbox.new()}
    assert mails["ann@example.com"]["subject"] == "Your week in Atribuo: 1 skill levelled up, 1 new skill, +4 levels"
    mail = mails["budi@example.com"]
    assert mail["subject"] == "Minggumu di Atribuo: 1 keahlian naik level, 1 keahlian baru, +4 level"
    html, text = mail["html"], mail["body"]
    assert "Hai Budi, minggu yang hebat!" in text and "Inilah minggumu di Atribuo." in text
    assert "- Guitar (musik), level 2" in text and "<strong>Python</strong> 3 → 5: “finally!”" in html
    assert "Kategori teratas: pemrograman, musik." in text and "Total perubahan level: +4." in text
    assert "Berhenti berlangganan ringkasan mingguan" in html and '<html lang="id">' in html
    assert "Lihat lembar karaktermu" in html


def test_the_unsubscribe_page_speaks_the_browsers_language(make_user, digest_queue):
    mailbox = Mailbox()
    with_week(make_user, "budi")
    run_planner(MONDAY_8_UTC)
    run_worker(digest_queue, drain(digest_queue))
    [mail] = mailbox.new()
    token = mail["headers"]["list-unsubscribe"].split("token=")[1].rstrip(">")
    page = invoke(digest_handler, http_event("GET", "/api/v1/digest/unsubscribe", query={"token": token},
                                             headers={"accept": "text/html", "accept-language": "id,en;q=0.5"}))
    body = page.body.decode()
    assert page.status == 200 and "<html lang='id'>" in body
    assert "Berhenti menerima ringkasan mingguan Atribuo?" in body and ">Berhenti berlangganan</button>" in body
    assert page.headers["content-language"] == "id" and page.headers["vary"] == "Accept-Language"
    english = invoke(digest_handler, http_event("GET", "/api/v1/digest/unsubscribe", query={"token": token},
                                                headers={"accept": "text/html"}))
    assert "Stop the weekly Atribuo digest?" in english.body.decode() and english.headers["content-language"] == "en"
    done = invoke(digest_handler, http_event("POST", "/api/v1/digest/unsubscribe", query={"token": token},
                                             body="List-Unsubscribe=One-Click",
                                             headers={"content-type": "application/x-www-form-urlencoded",
                                                      "accept": "text/html", "accept-language": "id"}))
    assert done.status == 200 and "Kamu tidak akan menerima ringkasan mingguan Atribuo lagi." in done.body.decode()
    bad = invoke(digest_handler, http_event("GET", "/api/v1/digest/unsubscribe", query={"token": "forged"},
                                            headers={"accept-language": "id"}))
    assert bad.status == 400 and bad.json["error"] == {
        "code": "invalid_token", "message": "tautan berhenti berlangganan ini tidak valid", "details": None}
