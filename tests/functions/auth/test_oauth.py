"""Sign-in with Google, Discord and Facebook through the auth function's real handler (issue 16).

Every flow talks real HTTP to the real local OpenID provider the session started (oidc-provider-mock,
configured as "google", with Discord/Facebook-shaped user endpoints): the API hands out the authorize
URL, the test follows it as a browser (``tests.support.oauth.authorize``), and posts the ``code`` and
``state`` of the redirect to the callback as a SPA would.
"""

from __future__ import annotations

import json

import pytest

from functions.auth.app import handler
from shared.clients import db
from shared.clients.redis import get_redis
from shared.identity import oauth
from tests.support import Response, http_event, invoke
from tests.support.oauth import REDIRECT_URI, authorize, set_user

IP = "198.51.100.30"


def call(method: str, path: str, body: object = None, headers: dict | None = None,
         query: dict | None = None, ip: str = IP) -> Response:
    return invoke(handler, http_event(method, "/api/v1" + path, body=body, headers=headers, query=query,
                                      source_ip=ip))


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def start(provider: str = "google", headers: dict | None = None, redirect_uri: str = REDIRECT_URI) -> dict:
    response = call("GET", f"/auth/oauth/{provider}/start", headers=headers, query={"redirect_uri": redirect_uri})
    assert response.status == 200, response
    return response.json


def callback(provider: str, params: dict, headers: dict | None = None) -> Response:
    return call("POST", f"/auth/oauth/{provider}/callback", {"code": params["code"], "state": params["state"]},
                headers=headers)


def sign_in(stack, sub: str, provider: str = "google", headers: dict | None = None) -> Response:
    started = start(provider, headers)
    return callback(provider, authorize(started["authorization_url"], sub), headers)


def google_user(stack, username: str = "ranger", email: str | None = None, verified: bool = True, **extra) -> str:
    return set_user(stack, {"email": email or f"{username}@example.com", "email_verified": verified,
                            "preferred_username": username, "name": username.title(), **extra})


# --- the happy path -------------------------------------------------------------------------------

def test_first_google_sign_in_creates_an_account_and_the_same_identity_signs_in_again(stack):
    sub = google_user(stack, "ranger")
    first = sign_in(stack, sub)
    assert first.status == 200, first
    body = first.json
    assert body["outcome"] == "created" and body["token_type"] == "bearer"
    assert body["user"]["username"] == "ranger" and body["identity"]["provider"] == "google"
    assert body["identity"]["email"] == "ranger@example.com" and body["identity"]["email_verified"] is True
    me = call("GET", "/auth/me", headers=bearer(body["access_token"]))
    assert me.status == 200 and me.json["username"] == "ranger"
    assert db.get_conn().execute("SELECT password_hash FROM users").fetchone()["password_hash"] is None

    second = sign_in(stack, sub)
    assert second.status == 200, second
    assert second.json["outcome"] == "signed_in"
    assert second.json["user"]["id"] == body["user"]["id"]
    assert second.json["refresh_token"] != body["refresh_token"]
    assert db.get_conn().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 1


def test_start_keeps_state_pkce_and_nonce_server_side_for_a_short_while(stack):
    started = start()
    url = started["authorization_url"]
    assert f"state={started['state']}" in url and "code_challenge_method=S256" in url and "nonce=" in url
    assert "code_verifier" not in url
    key = oauth.state_key(started["state"])
    record = json.loads(get_redis().get(key))
    assert record["redirect_uri"] == REDIRECT_URI and record["user_id"] is None
    assert record["verifier"] not in url and record["nonce"] in url
    assert 0 < get_redis().ttl(key) <= 600
    assert started["expires_in"] == 600 and started["intent"] == "sign_in"
