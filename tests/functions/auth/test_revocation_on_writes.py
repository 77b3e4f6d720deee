"""Revocation that bites on writes (issue 13): after logout-all (or a password change) the old
access token still reads until it expires, but every write is a 401 and changes nothing; the check
runs inside the write statement (no extra round trip). Real auth, skills, profiles and realtime
handlers against the real Postgres."""

from __future__ import annotations

import uuid

import jwt
import pytest

from functions.auth.app import handler as auth
from functions.profiles.app import handler as profiles
from functions.realtime.app import handler as realtime
from functions.skills.app import handler as skills
from functions.uploads.app import handler as uploads
from tests.support import http_event, invoke
from tests.support.skills import call, snapshot

PASSWORD = "a long enough passphrase"


def sign_in(username: str = "quester") -> dict[str, str]:
    """Register, then log in: the login's tokens (their ``sid`` is the login's refresh family)."""
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    assert invoke(auth, http_event("POST", "/api/v1/auth/register", body=body)).status == 201
    login = invoke(auth, http_event("POST", "/api/v1/auth/login", body={"username": username, "password": PASSWORD}))
    assert login.status == 200, login
    return login.json


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def device():
    tokens = sign_in()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert uuid.UUID(claims["sid"])  # the access token names its sign-in
    return tokens


def test_after_logout_all_the_old_token_reads_but_cannot_write(device, sql_counter):
    headers = bearer(device)
    skill = call(skills, "POST", "/api/v1/skills", headers, {"name": "Go", "category": "mind", "level": 2})
    assert skill.status == 201
    path = f"/api/v1/skills/{skill.json['id']}"
    assert invoke(auth, http_event("POST", "/api/v1/auth/logout-all", headers=headers)).status == 204
    owner = skill_owner(skill.json["id"])
    before = snapshot(owner)

    assert call(skills, "GET", path, headers).status == 200  # reads continue until the token expires
    assert call(profiles, "GET", "/api/v1/me/profile", headers).status == 200
    sql_counter.reset()
    writes = [
        call(skills, "POST", "/api/v1/skills", headers, {"name": "Chess", "category": "mind", "level": 1}),
        call(skills, "PATCH", path, headers, {"level": 9}),
        call(skills, "DELETE", path, headers),
        call(profiles, "PATCH", "/api/v1/me/profile", headers, {"bio": "stolen phone"}),
        invoke(realtime, http_event("POST", "/api/v1/sync/batch", headers=headers, body={"operations": [
            {"op_id": "x", "type": "skill.update", "skill_id": skill.json["id"], "data": {"level": 7},
             "updated_at": "2026-11-20T18:30:00Z"}]})),
        invoke(uploads, http_event("DELETE", "/api/v1/me/avatar", headers=headers)),
    ]
    assert [w.status for w in writes] == [401] * 6, writes
    assert {w.json["error"]["code"] for w in writes} == {"session_revoked"}
    queries = [q for q in sql_counter.statements if q.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert len(queries) == 6, queries  # one statement per write (the batch's claim): the check is inside it
    assert snapshot(owner) == before  # nothing changed


def test_another_devices_sign_in_keeps_writing_after_this_one_logs_out(device):
    other = invoke(auth, http_event("POST", "/api/v1/auth/login", body={"username": "quester", "password": PASSWORD}))
    assert invoke(auth, http_event("POST", "/api/v1/auth/logout", body={"refresh_token": device["refresh_token"]},
                                   headers=bearer(device))).status in (200, 204)
    assert call(skills, "POST", "/api/v1/skills", bearer(device), {"name": "A", "category": "mind",
                                                                   "level": 1}).status == 401
    assert call(skills, "POST", "/api/v1/skills", bearer(other.json), {"name": "B", "category": "mind",
                                                                       "level": 1}).status == 201


def test_a_refreshed_token_carries_the_same_sign_in(device):
    body = {"refresh_token": device["refresh_token"]}
    refreshed = invoke(auth, http_event("POST", "/api/v1/auth/refresh", body=body))
    assert refreshed.status == 200
    sid = [jwt.decode(t["access_token"], options={"verify_signature": False})["sid"] for t in (device, refreshed.json)]
    assert sid[0] == sid[1]
    assert call(skills, "POST", "/api/v1/skills", bearer(refreshed.json), {"name": "C", "category": "mind",
                                                                           "level": 1}).status == 201


def skill_owner(skill_id: str):
    from tests.support.skills import db_one

    return db_one("SELECT owner_id FROM skills WHERE id = %s", skill_id)["owner_id"]
