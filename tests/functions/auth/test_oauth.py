"""Sign-in with Google, Discord and Facebook through the auth function's real handler (issue 16).

Every flow talks real HTTP to the real local OpenID provider the session started (oidc-provider-mock,
configured as "google", with Discord/Facebook-shaped user endpoints): the API hands out the authorize
URL, the test follows it as a browser (``tests.support.oauth.authorize``), and posts the ``code`` and
``state`` of the redirect to the callback as a SPA would.
"""

from __future__ import annotations

import json
import os

import pytest

from functions.auth.app import handler
from local.servers import WsgiServerThread
from shared.clients import db
from shared.clients.redis import get_redis
from shared.clients.registry import reset_all
from shared.identity import oauth
from tests.support import Response, http_event, invoke
from tests.support.oauth import (
    REDIRECT_URI,
    TokenRewriter,
    authorize,
    resigned_with_another_key,
    set_user,
    unsigned,
    unverified,
)

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


def test_discord_and_facebook_sign_in_through_their_user_endpoints(stack):
    sub = google_user(stack, "bard", name="Bard of Discord")
    discord = sign_in(stack, sub, "discord")
    assert discord.status == 200, discord
    assert discord.json["outcome"] == "created" and discord.json["user"]["username"] == "bard"
    assert discord.json["identity"]["provider"] == "discord" and discord.json["identity"]["email_verified"] is True
    assert "nonce=" not in start("discord")["authorization_url"]  # OAuth 2.0 only: no ID token, no nonce

    fb_sub = google_user(stack, "skald", email="skald@example.com")
    facebook = sign_in(stack, fb_sub, "facebook")
    assert facebook.status == 200, facebook
    # The Graph API states no verification: the address counts as unverified.
    assert facebook.json["identity"]["email_verified"] is False
    assert facebook.json["user"]["username"] == "skald"


# --- refused, each with a clear 4xx ---------------------------------------------------------------

def test_a_replayed_state_is_refused(stack):
    started = start()
    params = authorize(started["authorization_url"], google_user(stack, "ranger"))
    assert callback("google", params).status == 200
    replay = callback("google", params)
    assert replay.status == 400 and replay.json["error"]["code"] == "invalid_state", replay


def test_an_unknown_state_or_one_started_for_another_provider_is_refused(stack):
    started = start("google")
    params = authorize(started["authorization_url"], google_user(stack, "ranger"))
    other = callback("discord", params)
    assert other.status == 400 and other.json["error"]["code"] == "invalid_state", other
    forged = callback("google", {"code": params["code"], "state": "A" * 43})
    assert forged.status == 400 and forged.json["error"]["code"] == "invalid_state"


def test_a_wrong_pkce_verifier_is_refused_by_the_provider(stack):
    started = start()
    key = oauth.state_key(started["state"])
    record = json.loads(get_redis().get(key))
    record["verifier"] = "x" * 86  # as if someone else's verifier went with this code
    get_redis().set(key, json.dumps(record), ex=60)
    response = callback("google", authorize(started["authorization_url"], google_user(stack, "ranger")))
    assert response.status == 400 and response.json["error"]["code"] == "code_rejected", response
    assert db.get_conn().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


@pytest.mark.parametrize(("claims", "why"), [
    ({"nonce": "a-nonce-from-another-flow"}, "nonce mismatch"),
    ({"aud": "another-client"}, "another audience"),
    ({"iss": "https://accounts.example.net"}, "another issuer"),
    ({"exp": 1_000_000_000}, "expired"),
])
def test_an_id_token_with_a_wrong_claim_is_refused(stack, claims, why):
    # The provider copies a user's claims over the standard ones when it signs the ID token.
    sub = google_user(stack, "ranger", **claims)
    response = sign_in(stack, sub)
    assert response.status == 400 and response.json["error"]["code"] == "invalid_id_token", (why, response)
    assert db.get_conn().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


def test_a_redirect_uri_not_on_the_allow_list_is_refused(stack):
    for uri in ("https://evil.example/auth/callback", REDIRECT_URI + "/../x", REDIRECT_URI + "?next=evil"):
        response = call("GET", "/auth/oauth/google/start", query={"redirect_uri": uri})
        assert response.status == 422 and response.json["error"]["code"] == "redirect_uri_not_allowed", response


def test_an_unknown_provider_is_404(stack):
    response = call("GET", "/auth/oauth/myspace/start")
    assert response.status == 404 and response.json["error"]["code"] == "unknown_provider"


@pytest.fixture
def rewrite_id_token(stack, monkeypatch):
    """Route google's token endpoint through a ``TokenRewriter`` applying the given forgery."""
    servers = []

    def install(rewrite):
        overrides = json.loads(os.environ["OAUTH_PROVIDERS"])
        upstream = overrides["google"]["token_url"]
        server = WsgiServerThread(TokenRewriter(upstream, rewrite)).start()
        servers.append(server)
        overrides["google"]["token_url"] = f"{server.url}/token"
        monkeypatch.setenv("OAUTH_PROVIDERS", json.dumps(overrides))
        reset_all()

    yield install
    for server in servers:
        server.stop()


@pytest.mark.parametrize("forge", [resigned_with_another_key, unsigned], ids=["another-key", "alg-none"])
def test_an_id_token_not_signed_by_the_provider_is_refused(stack, rewrite_id_token, forge):
    seen = []
    rewrite_id_token(lambda token: seen.append(forge(token)) or seen[-1])
    response = sign_in(stack, google_user(stack, "ranger"))
    assert response.status == 400 and response.json["error"]["code"] == "invalid_id_token", response
    _, claims = unverified(seen[0])
    assert claims["sub"] and claims["nonce"]  # everything else about the token was right
    assert db.get_conn().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


def test_the_rewriter_passes_an_untouched_token_through(stack, rewrite_id_token):
    """The control for the forgery tests: the same detour with the real token signs in."""
    rewrite_id_token(lambda token: token)
    assert sign_in(stack, google_user(stack, "ranger")).status == 200


# --- existing accounts: never auto-link on an unverified e-mail -----------------------------------

PASSWORD = "a long enough passphrase"


def register(username: str, email: str) -> dict:
    response = call("POST", "/auth/register", {"username": username, "email": email, "password": PASSWORD})
    assert response.status == 201, response
    return response.json


def identity_count() -> int:
    return db.get_conn().execute("SELECT count(*) AS n FROM user_identities").fetchone()["n"]


@pytest.mark.parametrize("provider_verified", [False, True], ids=["unverified", "verified-at-provider"])
def test_takeover_a_provider_account_with_the_victims_email_does_not_get_in(stack, provider_verified):
    victim = register("victim", "victim@example.com")
    attacker = google_user(stack, "mallory", email="Victim@Example.com", verified=provider_verified)
    response = sign_in(stack, attacker)
    # The victim's own address is not verified (issue 15 adds verification): no auto-link either way.
    assert response.status == 409 and response.json["error"]["code"] == "account_exists", response
    assert "access_token" not in response.body.decode() and victim["user"]["id"] not in response.body.decode()
    assert identity_count() == 0
    assert db.get_conn().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 1
    # A callback of a sign-in flow posted with the victim's session does not turn into a link either.
    started = start()
    params = authorize(started["authorization_url"], attacker)
    again = callback("google", params, bearer(victim["access_token"]))
    assert again.status == 409 and again.json["error"]["code"] == "account_exists", again
    assert identity_count() == 0


@pytest.fixture
def email_verification_column():
    """Issue 15's ``users.email_verified_at``, added for this test when main does not have it yet."""
    conn = db.get_conn()
    exists = conn.execute("SELECT 1 FROM information_schema.columns WHERE table_name = 'users'"
                          " AND column_name = 'email_verified_at'").fetchone()
    if not exists:
        conn.execute("ALTER TABLE users ADD COLUMN email_verified_at timestamptz")
    yield
    if not exists:
        conn.execute("ALTER TABLE users DROP COLUMN email_verified_at")


def test_auto_link_only_when_both_the_provider_and_the_account_verified_the_email(stack, email_verification_column):
    owner = register("owner", "owner@example.com")
    db.get_conn().execute("UPDATE users SET email_verified_at = now() WHERE username = 'owner'")
    unverified_at_provider = sign_in(stack, google_user(stack, "owner2", email="owner@example.com", verified=False))
    assert unverified_at_provider.status == 409
    assert unverified_at_provider.json["error"]["code"] == "account_exists"

    linked = sign_in(stack, google_user(stack, "owner3", email="owner@example.com", verified=True))
    assert linked.status == 200, linked
    assert linked.json["outcome"] == "signed_in" and linked.json["user"]["id"] == owner["user"]["id"]
    assert identity_count() == 1


def test_an_unverified_account_is_not_linked_even_when_the_column_exists(stack, email_verification_column):
    register("owner", "owner@example.com")  # email_verified_at stays NULL
    response = sign_in(stack, google_user(stack, "owner2", email="owner@example.com", verified=True))
    assert response.status == 409 and response.json["error"]["code"] == "account_exists"


# --- first sign-in usernames ----------------------------------------------------------------------

@pytest.mark.parametrize(("provider_username", "reason"), [("taken", "taken"), ("Dee.Dee", "invalid"),
                                                           ("ab", "invalid")])
def test_a_taken_or_invalid_provider_username_asks_for_one(stack, provider_username, reason):
    register("taken", "someone@example.com")
    sub = google_user(stack, provider_username, email="newcomer@example.com")
    response = sign_in(stack, sub)
    assert response.status == 409, response
    error = response.json["error"]
    assert error["code"] == "username_unavailable" and error["details"]["reason"] == reason
    token = error["details"]["signup_token"]

    still_taken = call("POST", "/auth/oauth/signup", {"signup_token": token, "username": "taken"})
    assert still_taken.status == 409 and still_taken.json["error"]["code"] == "username_unavailable"
    invalid = call("POST", "/auth/oauth/signup", {"signup_token": token, "username": "no spaces"})
    assert invalid.status == 422
    done = call("POST", "/auth/oauth/signup", {"signup_token": token, "username": "newcomer"})
    assert done.status == 200, done
    assert done.json["outcome"] == "created" and done.json["user"]["username"] == "newcomer"
    assert done.json["user"]["email"] == "newcomer@example.com"
    reused = call("POST", "/auth/oauth/signup", {"signup_token": token, "username": "newcomer2"})
    assert reused.status == 400 and reused.json["error"]["code"] == "invalid_state"
    assert sign_in(stack, sub).json["user"]["username"] == "newcomer"  # the identity signs in from now on


# --- linking and unlinking ------------------------------------------------------------------------

def test_link_while_signed_in_then_the_provider_signs_in_to_that_account(stack):
    user = register("quester", "quester@example.com")
    auth = bearer(user["access_token"])
    started = start("google", auth)
    assert started["intent"] == "link"
    sub = google_user(stack, "someone_else", email="other@example.com", verified=False)
    linked = callback("google", authorize(started["authorization_url"], sub), auth)
    assert linked.status == 200, linked
    assert linked.json["outcome"] == "linked" and linked.json["access_token"] is None
    assert linked.json["user"]["id"] == user["user"]["id"]

    listed = call("GET", "/me/identities", headers=auth)
    assert listed.status == 200 and [i["provider"] for i in listed.json["items"]] == ["google"]
    assert listed.json["has_password"] is True
    again = sign_in(stack, sub)
    assert again.status == 200 and again.json["user"]["id"] == user["user"]["id"]


def test_a_link_must_be_finished_by_the_account_that_started_it(stack):
    victim = register("victim", "victim@example.com")
    mallory = register("mallory", "mallory@example.com")
    for headers in (bearer(victim["access_token"]), None):  # the victim's session, or none at all
        started = start("google", bearer(mallory["access_token"]))
        params = authorize(started["authorization_url"], google_user(stack, "mallory_g", email="m@example.com"))
        refused = callback("google", params, headers)
        assert refused.status == 403 and refused.json["error"]["code"] == "link_user_mismatch", refused
    assert identity_count() == 0


def test_an_identity_linked_to_one_account_cannot_be_linked_to_another(stack):
    sub = google_user(stack, "ranger")
    assert sign_in(stack, sub).status == 200
    other = register("quester", "quester@example.com")
    response = sign_in(stack, sub, headers=bearer(other["access_token"]))
    assert response.status == 409 and response.json["error"]["code"] == "identity_in_use", response


def test_unlinking_the_last_sign_in_method_is_409_and_another_can_go(stack):
    created = sign_in(stack, google_user(stack, "ranger")).json
    auth = bearer(created["access_token"])
    only = created["identity"]["id"]
    last = call("DELETE", f"/me/identities/{only}", headers=auth)
    assert last.status == 409 and last.json["error"]["code"] == "last_sign_in_method", last

    linked = callback("discord", authorize(start("discord", auth)["authorization_url"],
                                           google_user(stack, "ranger_d", email="rd@example.com")), auth)
    assert linked.status == 200, linked
    assert call("DELETE", f"/me/identities/{only}", headers=auth).status == 204
    listed = call("GET", "/me/identities", headers=auth).json
    remaining = listed["items"]
    assert [i["provider"] for i in remaining] == ["discord"] and listed["has_password"] is False
    assert call("DELETE", f"/me/identities/{remaining[0]['id']}", headers=auth).status == 409
    assert call("DELETE", f"/me/identities/{only}", headers=auth).status == 404


def test_with_a_password_the_last_identity_may_go(stack):
    user = register("quester", "quester@example.com")
    auth = bearer(user["access_token"])
    started = start("google", auth)
    linked = callback("google", authorize(started["authorization_url"], google_user(stack, "q_g")), auth).json
    assert call("DELETE", f"/me/identities/{linked['identity']['id']}", headers=auth).status == 204
    assert call("GET", "/me/identities", headers=auth).json["items"] == []


def test_an_oauth_only_account_refuses_password_login_and_password_change_clearly(stack):
    created = sign_in(stack, google_user(stack, "ranger")).json
    for login in ("ranger", "ranger@example.com"):
        response = call("POST", "/auth/login", {"username": login, "password": "any password at all"})
        assert response.status == 409 and response.json["error"]["code"] == "password_not_set", response
    change = call("POST", "/auth/password", {"current_password": "whatever", "new_password": "a new passphrase"},
                  headers=bearer(created["access_token"]))
    assert change.status == 409 and change.json["error"]["code"] == "password_not_set", change
    unknown = call("POST", "/auth/login", {"username": "nobody", "password": "any password at all"})
    assert unknown.status == 401 and unknown.json["error"]["code"] == "invalid_credentials"


def test_identity_routes_need_a_signed_in_caller(stack):
    assert call("GET", "/me/identities").status == 401
    assert call("DELETE", "/me/identities/00000000-0000-0000-0000-000000000000").status == 401
    assert call("GET", "/auth/oauth/google/start", headers=bearer("not-a-token")).status == 401


def test_oauth_callbacks_are_rate_limited_per_ip(stack, monkeypatch):
    monkeypatch.setenv("OAUTH_CALLBACKS_PER_MIN", "2")
    reset_all()
    body = {"code": "whatever", "state": "A" * 43}
    statuses = [call("POST", "/auth/oauth/google/callback", body).status for _ in range(3)]
    assert statuses == [400, 400, 429]
    assert call("POST", "/auth/oauth/google/callback", body, ip="198.51.100.99").status == 400


def test_oauth_fails_closed_when_redis_is_down(stack):
    started = start()
    params = authorize(started["authorization_url"], google_user(stack, "ranger"))
    stack.stop_bridge()
    try:
        reset_all()
        responses = {"start": call("GET", "/auth/oauth/google/start"), "callback": callback("google", params)}
    finally:
        stack.start_bridge()
        reset_all()
    for name, response in responses.items():
        assert response.status == 503 and response.json["error"]["code"] == "service_unavailable", (name, response)
    assert callback("google", params).status == 200  # the state was not spent while Redis was down


def test_an_unreachable_provider_is_a_503_not_a_500(stack, monkeypatch):
    from local.servers import free_port

    started = start()
    params = authorize(started["authorization_url"], google_user(stack, "ranger"))
    overrides = json.loads(os.environ["OAUTH_PROVIDERS"])
    overrides["google"]["token_url"] = f"http://127.0.0.1:{free_port()}/token"  # nothing listens there
    monkeypatch.setenv("OAUTH_PROVIDERS", json.dumps(overrides))
    reset_all()
    response = callback("google", params)
    assert response.status == 503 and response.json["error"]["code"] == "service_unavailable", response


def test_a_link_for_an_account_deleted_meanwhile_is_401_not_500(stack):
    user = register("quester", "quester@example.com")
    auth = bearer(user["access_token"])
    started = start("google", auth)
    params = authorize(started["authorization_url"], google_user(stack, "q_g"))
    db.get_conn().execute("DELETE FROM users WHERE username = 'quester'")
    response = callback("google", params, auth)  # the access token itself is still within its 15 minutes
    assert response.status == 401, response
    assert identity_count() == 0


def test_a_sign_in_answer_is_never_stored_for_idempotency_replay(stack):
    """A signed-in SPA may send its bearer and an Idempotency-Key with a sign-in callback: the token
    pair in the answer must not be kept at rest in the once-only table."""
    user = register("quester", "quester@example.com")
    params = authorize(start()["authorization_url"], google_user(stack, "ranger"))
    headers = {**bearer(user["access_token"]), "idempotency-key": "callback-1"}
    response = call("POST", "/auth/oauth/google/callback", {"code": params["code"], "state": params["state"]},
                    headers=headers)
    assert response.status == 200 and response.json["access_token"], response
    password = call("POST", "/auth/password", {"current_password": PASSWORD, "new_password": "a new passphrase"},
                    headers={**bearer(user["access_token"]), "idempotency-key": "password-1"})
    assert password.status == 200 and password.json["access_token"], password
    assert db.get_conn().execute("SELECT count(*) AS n FROM applied_operations").fetchone()["n"] == 0


def test_provider_sign_ins_are_in_the_security_log_like_password_ones(stack):
    """Issue 15's security log covers OAuth sign-ins too: the first (account created) and every later one."""
    sub = google_user(stack, "ranger")
    first = sign_in(stack, sub)
    second = sign_in(stack, sub)
    assert first.status == 200 and second.status == 200, (first, second)
    events = call("GET", "/me/security-events", headers=bearer(second.json["access_token"]))
    assert events.status == 200, events
    assert [e["kind"] for e in events.json["events"]].count("sign_in") == 2
