"""The signed unsubscribe link: GET shows a confirmation page, POST (RFC 8058 one-click) unsubscribes."""

from __future__ import annotations

import uuid

import pytest

from functions.digest.app import handler
from shared.clients import db
from shared.digests import unsubscribe
from tests.support import http_event, invoke, load_event


def opted_out(user_id: uuid.UUID) -> bool:
    return db.get_conn().execute("SELECT digest_opt_out FROM users WHERE id = %s", (user_id,)).fetchone()[
        "digest_opt_out"]


def call(token: str, accept: str = "application/json", method: str = "POST"):
    return invoke(handler, http_event(method, "/api/v1/digest/unsubscribe", query={"token": token},
                                      headers={"accept": accept}))


def test_sample_event_get_shows_a_confirmation_page_and_changes_nothing(make_user):
    """Mail scanners follow GET links: a GET must never unsubscribe."""
    user, _ = make_user()
    event = load_event("event-get-digest-unsubscribe")
    token = unsubscribe.make_token(user["id"])
    event["rawQueryString"] = f"token={token}"
    event["queryStringParameters"] = {"token": token}
    response = invoke(handler, event)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.body.decode()
    assert "<form method='post'" in page and f"?token={token}" in page
    assert not opted_out(user["id"])
    assert call(token, method="GET").json == {"unsubscribed": False}
    assert not opted_out(user["id"])


def test_rfc_8058_one_click_post_unsubscribes(make_user):
    """What a mail client sends for List-Unsubscribe-Post: a form body, token in the URL."""
    user, _ = make_user()
    token = unsubscribe.make_token(user["id"])
    event = http_event("POST", "/api/v1/digest/unsubscribe", query={"token": token},
                       body="List-Unsubscribe=One-Click",
                       headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/html"})
    response = invoke(handler, event)
    assert response.status == 200, response
    assert "no longer receive" in response.body.decode()
    assert opted_out(user["id"])


def test_get_with_a_bad_token_is_refused_before_any_page(make_user):
    user, _ = make_user()
    assert call(unsubscribe.make_token(user["id"])[:-2], method="GET").status == 400


def test_json_confirmation_and_idempotent(make_user):
    user, _ = make_user()
    token = unsubscribe.make_token(user["id"])
    assert call(token).json == {"unsubscribed": True}
    assert call(token).json == {"unsubscribed": True}
    assert opted_out(user["id"])


def tampered(token: str) -> list[str]:
    flip = "A" if token[5] != "A" else "B"
    last = "A" if token[-1] != "A" else "B"
    return [token[:5] + flip + token[6:], token[:-1] + last, token[:-2], token + "AA", "", "%%%", "not-a-token"]


def test_tampered_tokens_fail_and_change_nothing(make_user):
    user, _ = make_user()
    make_user("other")
    for bad in tampered(unsubscribe.make_token(user["id"])):
        response = call(bad)
        assert response.status in (400, 422), bad
        assert "error" in response.json
    assert db.get_conn().execute("SELECT count(*) AS n FROM users WHERE digest_opt_out").fetchone()["n"] == 0


def test_someone_elses_id_with_my_signature_fails(make_user):
    """Swapping the id inside a token breaks the MAC (the id is what is signed)."""
    import base64

    me, _ = make_user("mallory")
    victim, _ = make_user("victim")
    raw = base64.urlsafe_b64decode(unsubscribe.make_token(me["id"]) + "==")
    forged = base64.urlsafe_b64encode(victim["id"].bytes + raw[16:]).decode().rstrip("=")
    assert call(forged).status == 400
    assert not opted_out(victim["id"])


def test_token_signed_with_another_secret_fails(make_user, monkeypatch):
    from shared.clients.registry import reset_all

    user, _ = make_user()
    monkeypatch.setenv("DIGEST_SIGNING_SECRET", "another-deployment-secret-entirely")
    reset_all()
    foreign = unsubscribe.make_token(user["id"])
    monkeypatch.undo()
    reset_all()
    assert call(foreign).status == 400 and not opted_out(user["id"])


def test_valid_token_for_a_deleted_user_is_404():
    response = call(unsubscribe.make_token(uuid.uuid4()))
    assert response.status == 404 and response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("query", [{}, {"token": "x" * 500}])
def test_missing_or_huge_token_is_422(query):
    for method in ("GET", "POST"):
        assert invoke(handler, http_event(method, "/api/v1/digest/unsubscribe", query=query)).status == 422


def test_a_token_differing_only_in_base64_padding_bits_is_refused(make_user):
    """32 bytes are 43 base64 characters: the last one carries 2 unused bits that decoders ignore."""
    user, _ = make_user()
    token = unsubscribe.make_token(user["id"])
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
    assert call(twin).status == 400
    assert not opted_out(user["id"])


def test_the_anonymous_digest_function_keeps_no_idempotency_store():
    """Nothing here takes a bearer token, and the function has no grant to the signing keys: the replay
    store (which verifies a sent token to key its records) would turn a stray Authorization header on
    the one-click POST into a 503. The signed link is what makes the POST safe to repeat."""
    from functions.digest.app import app
    from shared.http.idempotency import IdempotencyMiddleware

    assert IdempotencyMiddleware not in [m.cls for m in app.user_middleware]
