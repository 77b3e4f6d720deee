"""The auth function through its real handler, against the real Postgres and Redis of the local stack.

Time is moved by editing the stored timestamps in Postgres (never by sleeping). Every response any
test here receives is scanned for password hashes by ``call``.
"""

from __future__ import annotations

import hashlib
import json

import jwt
import pytest

from functions.auth.app import handler
from shared.clients import db
from shared.clients.registry import reset_all
from shared.identity import keys
from shared.repositories.users import create_user
from tests.support import Response, http_event, invoke, load_event

PASSWORD = "a long enough passphrase"
IP_A, IP_B = "198.51.100.10", "198.51.100.20"


def _assert_no_secret(response: Response) -> None:
    body = response.body.lower()
    assert b"$argon2" not in body, response  # the prefix of every hash we store
    assert PASSWORD.encode() not in body and b"new passphrase" not in body, response


def call(method: str, path: str, body: object = None, headers: dict | None = None, ip: str = IP_A,
         style: str = "aws") -> Response:
    response = invoke(handler, http_event(method, "/api/v1" + path, body=body, headers=headers, source_ip=ip,
                                          style=style))
    _assert_no_secret(response)
    return response


def register(username: str = "quester", email: str | None = None, password: str = PASSWORD, **extra) -> dict:
    body = {"username": username, "email": email or f"{username}@example.com", "password": password, **extra}
    response = call("POST", "/auth/register", body)
    assert response.status == 201, response
    return response.json


def login(username: str = "quester", password: str = PASSWORD, ip: str = IP_A) -> Response:
    return call("POST", "/auth/login", {"username": username, "password": password}, ip=ip)


def refresh(token: str, ip: str = IP_A) -> Response:
    return call("POST", "/auth/refresh", {"refresh_token": token}, ip=ip)


def bearer(pair: dict) -> dict[str, str]:
    return {"authorization": f"Bearer {pair['access_token']}"}


def rotated_ago(token: str, seconds: int) -> None:
    """Pretend ``token`` was rotated ``seconds`` ago (moves the stored clock, not ours)."""
    digest = hashlib.sha256(token.encode()).digest()
    count = db.get_conn().execute(
        "UPDATE refresh_tokens SET rotated_at = now() - make_interval(secs => %s) WHERE token_hash = %s",
        (seconds, digest)).rowcount
    assert count == 1


def stored_hash(username: str) -> str:
    return db.get_conn().execute("SELECT password_hash FROM users WHERE username = %s", (username,)).fetchone()[
        "password_hash"]


# --- registration ---------------------------------------------------------------------------------

def test_register_returns_201_user_without_hash_and_a_working_pair():
    body = register("Quester_01", "Quester@Example.com", display_name="Quester")
    assert set(body) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    user = body["user"]
    assert user["username"] == "quester_01" and user["display_name"] == "Quester"
    assert "password" not in json.dumps(user)
    me = call("GET", "/auth/me", headers=bearer(body))
    assert me.status == 200 and me.json["id"] == user["id"]
    assert refresh(body["refresh_token"]).status == 200


def test_me_and_registration_serve_the_same_document_as_me_profile():
    """One user, one shape: /auth/me, registration's user and /me/profile agree field for field."""
    from functions.profiles.app import handler as profiles_handler

    body = register("same_shape", display_name="Same Shape")
    me = call("GET", "/auth/me", headers=bearer(body))
    profile = invoke(profiles_handler, http_event("GET", "/api/v1/me/profile", headers=bearer(body)))
    assert profile.status == 200 and me.json == profile.json == body["user"]
    assert {"timezone", "digest_opt_out"} <= set(me.json)


def test_register_response_is_not_cacheable():
    response = call("POST", "/auth/register", {"username": "quester", "email": "q@example.com", "password": PASSWORD})
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"


def test_recorded_events_register_login_refresh_me_jwks():
    response = invoke(handler, load_event("event-post-auth-register"))
    assert response.status == 201, response
    login_response = invoke(handler, load_event("event-post-auth-login"))
    assert login_response.status == 200, login_response
    event = load_event("event-post-auth-refresh")
    event["body"] = json.dumps({"refresh_token": login_response.json["refresh_token"]})
    event["headers"]["content-length"] = str(len(event["body"]))
    assert invoke(handler, event).status == 200
    event = load_event("event-get-auth-me")
    event["headers"]["authorization"] = f"Bearer {login_response.json['access_token']}"
    assert invoke(handler, event).json["username"] == "quester_01"
    assert invoke(handler, load_event("event-get-jwks")).status == 200


@pytest.mark.parametrize(("taken", "again", "field"), [
    ({"username": "quester", "email": "one@example.com"}, {"username": "QUESTER", "email": "two@example.com"},
     "username"),
    ({"username": "first", "email": "same@example.com"}, {"username": "second", "email": "Same@example.com"},
     "email"),
])
def test_duplicates_are_409_naming_the_field(taken, again, field):
    register(**taken)
    response = call("POST", "/auth/register", {**again, "password": PASSWORD})
    assert response.status == 409, response
    assert response.json["error"]["details"] == [
        {"field": f"body.{field}", "message": f"{field} already taken", "type": "unique"}]
    assert db.get_conn().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 1


@pytest.mark.parametrize(("changes", "field"), [
    ({"username": "ab"}, "body.username"),
    ({"username": "x" * 31}, "body.username"),
    ({"username": "bad-name"}, "body.username"),
    ({"email": "not-an-email"}, "body.email"),
    ({"password": "short12"}, "body.password"),
    ({"password": "p" * 129}, "body.password"),
    ({"password": None}, "body.password"),
])
def test_invalid_registration_is_422_naming_the_field(changes, field):
    body = {"username": "quester", "email": "q@example.com", "password": PASSWORD, **changes}
    response = call("POST", "/auth/register", {k: v for k, v in body.items() if v is not None})
    assert response.status == 422, response
    assert [d["field"] for d in response.json["error"]["details"]] == [field]


def test_nul_characters_are_422_not_a_database_error():
    register_nul = call("POST", "/auth/register", {"username": "quester", "email": "q@example.com",
                                                   "password": PASSWORD, "display_name": "Q\x00"})
    login_nul = call("POST", "/auth/login", {"username": "ques\x00ter", "password": PASSWORD})
    assert register_nul.status == login_nul.status == 422
    assert register_nul.json["error"]["details"][0]["field"] == "body.display_name"
    assert login_nul.json["error"]["details"][0]["field"] == "body.username"


@pytest.mark.parametrize("extra", [{"id": "00000000-0000-0000-0000-000000000001"}, {"is_admin": True},
                                   {"password_hash": "$argon2id$forged"}, {"sync_version": 99}])
def test_mass_assignment_is_refused_and_creates_nothing(extra):
    body = {"username": "quester", "email": "q@example.com", "password": PASSWORD, **extra}
    response = call("POST", "/auth/register", body)
    assert response.status == 422
    assert response.json["error"]["details"][0]["field"] == f"body.{next(iter(extra))}"
    assert db.get_conn().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


def test_password_change_refuses_extra_fields_like_a_user_id():
    pair = register()
    other = register("other")
    body = {"current_password": PASSWORD, "new_password": "new passphrase 1", "user_id": other["user"]["id"]}
    response = call("POST", "/auth/password", body, headers=bearer(pair))
    assert response.status == 422 and response.json["error"]["details"][0]["field"] == "body.user_id"
    assert login("other").status == 200


# --- login --------------------------------------------------------------------------------------

def test_login_by_username_any_case_or_email_returns_the_user_like_register():
    registered = register("quester", "quester@example.com")
    for name in ("quester", "QUESTER", "quester@example.com", "Quester@Example.COM"):
        response = login(name)
        assert response.status == 200, response
        assert set(response.json) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
        assert response.json["user"] == registered["user"]  # the same document, byte for byte
        assert response.headers["cache-control"] == "no-store"


def test_sam_style_event_logs_in():
    register()
    assert call("POST", "/auth/login", {"username": "quester", "password": PASSWORD}, style="sam").status == 200


def test_unknown_user_and_wrong_password_answer_identically(monkeypatch):
    from shared.identity import passwords

    register()
    verified: list[str] = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password",
                        lambda stored, given: verified.append(stored) or real_verify(stored, given))
    wrong = login("quester", "not the password")
    unknown = login("nobody", "not the password")
    assert wrong.status == unknown.status == 401
    assert wrong.json == unknown.json
    assert wrong.json["error"]["code"] == "invalid_credentials"
    # Both paths spent one argon2 verification (the unknown user's against a dummy hash).
    assert len(verified) == 2 and all(h.startswith("$argon2id$") for h in verified)


def test_the_dummy_hash_uses_the_configured_parameters():
    from shared.identity import passwords
    from shared.identity.accounts import DUMMY_HASH

    assert not passwords.needs_rehash(DUMMY_HASH)  # else unknown users would verify faster or slower


def test_login_rehashes_when_parameters_changed():
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    create_user(db.get_conn(), username="old_timer", email="old@example.com", password_hash=weak)
    assert login("old_timer").status == 200
    upgraded = stored_hash("old_timer")
    assert upgraded != weak and upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert login("old_timer").status == 200 and stored_hash("old_timer") == upgraded


# --- refresh rotation ----------------------------------------------------------------------------

def test_refresh_rotates_and_the_old_token_is_rejected_after_the_grace_window():
    first = register()
    second = refresh(first["refresh_token"])
    assert second.status == 200 and second.headers["cache-control"] == "no-store"
    assert second.json["refresh_token"] != first["refresh_token"]
    assert call("GET", "/auth/me", headers=bearer(second.json)).status == 200
    rotated_ago(first["refresh_token"], 11)
    stale = refresh(first["refresh_token"])
    assert stale.status == 401 and stale.json["error"]["code"] == "invalid_grant"


def test_reuse_after_the_grace_window_revokes_the_family_including_the_newest():
    first = register()
    second = refresh(first["refresh_token"]).json
    third = refresh(second["refresh_token"]).json
    other_device = login().json
    rotated_ago(first["refresh_token"], 60)
    assert refresh(first["refresh_token"]).status == 401  # the thief (or the victim) replays it
    assert refresh(third["refresh_token"]).status == 401  # the newest token of that family is dead too
    assert refresh(other_device["refresh_token"]).status == 200  # another sign-in is untouched
    family = db.get_conn().execute(
        "SELECT revoked_reason FROM refresh_families WHERE revoked_at IS NOT NULL").fetchall()
    assert [row["revoked_reason"] for row in family] == ["reuse"]


def test_two_tabs_refreshing_inside_the_window_both_stay_signed_in():
    start = register()
    tab_a = refresh(start["refresh_token"])
    rotated_ago(start["refresh_token"], 9)  # the second tab arrives late, but inside the 10 s window
    tab_b = refresh(start["refresh_token"])
    assert tab_a.status == tab_b.status == 200
    assert tab_a.json["refresh_token"] != tab_b.json["refresh_token"]
    for tab in (tab_a.json, tab_b.json):
        assert call("GET", "/auth/me", headers=bearer(tab)).status == 200
        assert refresh(tab["refresh_token"]).status == 200  # each tab keeps rotating on its own


def test_an_idle_expired_refresh_token_is_rejected():
    pair = register()
    db.get_conn().execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
    assert refresh(pair["refresh_token"]).status == 401


def test_new_tokens_get_thirty_days_of_idle_life():
    pair = register()
    refresh(pair["refresh_token"])
    rows = db.get_conn().execute(
        "SELECT expires_at - created_at AS life, parent_hash FROM refresh_tokens ORDER BY created_at").fetchall()
    assert [row["life"].days for row in rows] == [30, 30]
    assert rows[1]["parent_hash"] == hashlib.sha256(pair["refresh_token"].encode()).digest()


def test_refresh_tokens_are_stored_only_as_hashes():
    pair = register()
    raw = pair["refresh_token"].encode()
    row = db.get_conn().execute("SELECT token_hash FROM refresh_tokens").fetchone()
    assert bytes(row["token_hash"]) == hashlib.sha256(raw).digest()
    dump = db.get_conn().execute("SELECT row_to_json(t)::text AS j FROM refresh_tokens t").fetchone()["j"]
    assert pair["refresh_token"] not in dump


@pytest.mark.parametrize("token", ["x" * 43, "0123456789abcdef"])
def test_unknown_refresh_tokens_are_401(token):
    assert refresh(token).status == 401


# --- logout, logout-all, password change -------------------------------------------------------------

def test_logout_revokes_this_device_only():
    laptop = register()
    phone = login().json
    newest = refresh(laptop["refresh_token"]).json
    assert call("POST", "/auth/logout", {"refresh_token": newest["refresh_token"]}).status == 204
    assert refresh(newest["refresh_token"]).status == 401
    assert refresh(phone["refresh_token"]).status == 200
    assert call("POST", "/auth/logout", {"refresh_token": "y" * 43}).status == 204  # unknown: nothing to do


def test_logout_all_revokes_every_family():
    first = register()
    tokens = [first["refresh_token"], login().json["refresh_token"], login(ip=IP_B).json["refresh_token"]]
    tokens[0] = refresh(tokens[0]).json["refresh_token"]
    assert call("POST", "/auth/logout-all", headers=bearer(first)).status == 204
    assert [refresh(token).status for token in tokens] == [401, 401, 401]
    assert login().status == 200  # signing in again works


def test_logout_all_needs_a_valid_access_token():
    assert call("POST", "/auth/logout-all").status == 401
    assert call("POST", "/auth/logout-all", headers={"authorization": "Bearer nope"}).status == 401


def test_password_change_revokes_every_family_and_returns_a_fresh_pair():
    first = register()
    others = [login().json["refresh_token"], login(ip=IP_B).json["refresh_token"]]
    body = {"current_password": PASSWORD, "new_password": "new passphrase 1"}
    response = call("POST", "/auth/password", body, headers=bearer(first))
    assert response.status == 200, response
    assert response.headers["cache-control"] == "no-store"
    assert [refresh(token).status for token in [first["refresh_token"], *others]] == [401, 401, 401]
    assert refresh(response.json["refresh_token"]).status == 200
    assert login().status == 401
    assert login(password="new passphrase 1").status == 200


def test_password_change_with_the_wrong_current_password_changes_nothing():
    first = register()
    body = {"current_password": "not my password", "new_password": "new passphrase 1"}
    response = call("POST", "/auth/password", body, headers=bearer(first))
    assert response.status == 403
    assert response.json["error"]["details"][0]["field"] == "body.current_password"
    assert refresh(first["refresh_token"]).status == 200
    assert login().status == 200


def test_password_change_validates_the_new_password():
    first = register()
    response = call("POST", "/auth/password", {"current_password": PASSWORD, "new_password": "short"},
                    headers=bearer(first))
    assert response.status == 422
    assert [d["field"] for d in response.json["error"]["details"]] == ["body.new_password"]


def test_me_needs_a_token_and_never_shows_the_hash():
    pair = register()
    assert call("GET", "/auth/me").status == 401
    me = call("GET", "/auth/me", headers=bearer(pair))
    assert me.status == 200
    assert stored_hash("quester").encode() not in me.body
    assert set(me.json) == {"id", "username", "email", "display_name", "avatar_url", "avatar_urls", "bio",
                            "privacy_settings", "timezone", "digest_opt_out", "locale", "email_verified", "created_at",
                            "updated_at"}


# --- JWKS ------------------------------------------------------------------------------------------

def test_jwks_is_public_cacheable_and_verifies_issued_tokens():
    response = call("GET", "/.well-known/jwks.json")
    assert response.status == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    published = response.json["keys"]
    assert [k["kid"] for k in published] == [keys.signing_key().kid]
    assert all(private not in k for k in published for private in ("d", "p", "q", "dp", "dq", "qi"))
    pair = register()
    kid = jwt.get_unverified_header(pair["access_token"])["kid"]
    public = jwt.PyJWKSet.from_dict(response.json)[kid].key
    from shared.core.settings import get_settings

    claims = jwt.decode(pair["access_token"], public, algorithms=["RS256"], audience=get_settings().jwt_audience)
    assert claims["sub"] == pair["user"]["id"] and claims["typ"] == "access"


# --- throttling ------------------------------------------------------------------------------------

def test_eleventh_failed_login_from_one_ip_is_429_while_another_ip_still_works():
    register()
    for _ in range(10):
        assert login(password="wrong guess").status == 401
    blocked = login(password="wrong guess")
    assert blocked.status == 429, blocked
    assert blocked.json["error"]["code"] == "rate_limited"
    assert blocked.headers["ratelimit-limit"] == "10" and blocked.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert blocked.headers["ratelimit-reset"] == blocked.headers["retry-after"]
    assert login().status == 429  # even the right password waits, from this IP
    assert login(ip=IP_B).status == 200  # the account itself is not locked out


def test_the_throttle_does_not_tell_which_email_belongs_to_which_username():
    """The oracle of issue 15: ten failures with an e-mail, then one with a username, used to answer
    429 only when both named the same account. Now the visible bucket is keyed on what was typed."""
    register("alice", "alice@example.com")
    register("bob", "bob@example.com")
    for _ in range(10):
        assert login("alice@example.com", "wrong guess").status == 401
    assert login("Alice@Example.com", "wrong guess").status == 429  # what was typed is throttled
    same_account = login("alice", "wrong guess")
    other_account = login("bob", "wrong guess")
    assert same_account.status == other_account.status == 401
    assert same_account.json == other_account.json
    assert same_account.headers.get("retry-after") is other_account.headers.get("retry-after") is None


def test_alternating_username_and_email_does_not_double_the_guesses():
    """The per-account limit is spent by either spelling; once it is, even the right password gets
    the wrong-password answer (so the limit itself is invisible), from this IP only."""
    register("quester", "quester@example.com")
    for name in ["quester", "quester@example.com"] * 5:
        assert login(name, "wrong guess").status == 401
    honest, wrong = login("quester"), login("quester", "wrong guess")  # "quester" has typed-budget left
    assert honest.status == wrong.status == 401 and honest.json == wrong.json
    assert login(ip=IP_B).status == 200  # the account is not locked out elsewhere


def test_the_account_limit_is_spent_for_unknown_accounts_too(monkeypatch):
    """Unknown and known accounts draw the same buckets (same Redis work, same timing)."""
    from shared.identity import ratelimit

    register()
    drawn: list[str] = []
    real_draw = ratelimit._draw
    monkeypatch.setattr(ratelimit, "_draw", lambda rule, ident: drawn.append(rule.name) or real_draw(rule, ident))
    login("quester", "wrong guess")
    known = list(drawn)
    drawn.clear()
    login("nobody", "wrong guess")
    assert known == drawn == ["auth-ip", "login", "login-account"]


def test_forwarded_for_headers_do_not_change_the_client_ip():
    register()
    for n in range(11):
        response = call("POST", "/auth/login", {"username": "quester", "password": "wrong guess"},
                        headers={"x-forwarded-for": f"192.0.2.{n}"})
    assert response.status == 429


def test_per_ip_limit_covers_every_auth_route(monkeypatch):
    monkeypatch.setenv("AUTH_IP_REQUESTS_PER_MIN", "3")
    reset_all()
    pair = register()
    assert refresh(pair["refresh_token"]).status == 200
    assert login().status == 200
    blocked = call("POST", "/auth/logout", {"refresh_token": pair["refresh_token"]})
    assert blocked.status == 429 and blocked.headers["ratelimit-limit"] == "3"
    assert login(ip=IP_B).status == 200


def test_auth_fails_closed_when_redis_is_down(stack):
    pair = register()
    stack.stop_bridge()
    try:
        reset_all()
        responses = {
            "register": call("POST", "/auth/register", {"username": "late", "email": "l@example.com",
                                                        "password": PASSWORD}),
            "login": login(),
            "refresh": refresh(pair["refresh_token"]),
        }
        me = call("GET", "/auth/me", headers=bearer(pair))
        jwks = call("GET", "/.well-known/jwks.json")
    finally:
        stack.start_bridge()
        reset_all()
    for name, response in responses.items():
        assert response.status == 503, (name, response)
        assert response.json["error"]["code"] == "service_unavailable"
    assert me.status == 200 and jwks.status == 200  # routes that do not throttle keep working
    assert db.get_conn().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 1
    assert refresh(pair["refresh_token"]).status == 200  # nothing was rotated while Redis was down


# --- the password policy (issue 15) ----------------------------------------------------------------

@pytest.mark.parametrize(("password", "why"), [
    ("password", "too easy to guess"),
    ("aaaaaaaaaaaa", "too easy to guess"),
    ("quester@example.com", "contains your e-mail address"),
    ("my-Quester-secret-2026", "contains your username"),
])
def test_weak_passwords_are_refused_at_registration_with_a_readable_reason(password, why):
    response = call("POST", "/auth/register", {"username": "quester", "email": "quester@example.com",
                                               "password": password})
    assert response.status == 422, response
    error = response.json["error"]
    assert error["code"] == "weak_password" and why in error["message"]
    assert error["details"] == [{"field": "body.password", "message": error["details"][0]["message"],
                                 "type": "weak_password"}]
    assert why in error["details"][0]["message"]
    assert db.get_conn().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


def test_zxcvbn_advice_reaches_the_person():
    response = call("POST", "/auth/register", {"username": "quester", "email": "q@example.com",
                                               "password": "password"})
    assert "top-10 common password" in response.json["error"]["details"][0]["message"]


def test_a_weak_new_password_is_refused_naming_new_password_and_nothing_changes():
    pair = register()
    before = stored_hash("quester")
    response = call("POST", "/auth/password", {"current_password": PASSWORD, "new_password": "aaaaaaaaaaaa"},
                    headers=bearer(pair))
    assert response.status == 422 and response.json["error"]["details"][0]["field"] == "body.new_password"
    assert stored_hash("quester") == before
    assert refresh(pair["refresh_token"]).status == 200  # no session was revoked
