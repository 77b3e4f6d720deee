"""Real requests through the local gateway answer only what ``openapi.json`` documents.

Each answer's status is documented for its operation, the headers a client reads (ETag,
X-Sync-Version, Retry-After, RateLimit-*) are declared on that response, and an error's ``code`` is
in the enum. PATCH bodies are nullable exactly where the server accepts a null.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.openapi import COMMITTED
from tests.support.gateway import local_api

READ_HEADERS = ("etag", "x-sync-version", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
                "idempotent-replayed")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return json.loads(COMMITTED.read_text())


@pytest.fixture(scope="module")
def api(stack) -> Iterator[httpx.Client]:
    with local_api(timeout=15) as client:
        yield client


def conforms(spec: dict[str, Any], template: str, response: httpx.Response) -> httpx.Response:
    operation = spec["paths"][template][response.request.method.lower()]
    entry = operation["responses"].get(str(response.status_code))
    assert entry is not None, f"{operation['operationId']} answered an undocumented {response.status_code}"
    declared = {name.lower() for name in entry.get("headers", {})}
    sent = {name for name in READ_HEADERS if name in response.headers}
    assert sent <= declared, f"{operation['operationId']} {response.status_code}: undeclared {sent - declared}"
    if response.status_code >= 400:
        enum = spec["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
        assert response.json()["error"]["code"] in enum
    return response


def _signed_in(api: httpx.Client, spec: dict[str, Any], name: str = "ada") -> dict[str, str]:
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    assert conforms(spec, "/api/v1/auth/register", api.post("/api/v1/auth/register", json=body)).status_code == 201
    again = conforms(spec, "/api/v1/auth/register", api.post("/api/v1/auth/register", json=body))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_exists"
    login = conforms(spec, "/api/v1/auth/login",
                     api.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD}))
    return {"authorization": f"Bearer {login.json()['access_token']}"}


def test_skills_answer_as_documented(api, spec):
    auth = _signed_in(api, spec)
    skills, one = "/api/v1/skills", "/api/v1/skills/{skill_id}"
    assert conforms(spec, skills, api.get(skills)).status_code == 401
    created = conforms(spec, skills, api.post(skills, json={"name": "Chess", "category": "mind", "level": 2},
                                               headers=auth))
    assert created.status_code == 201 and "x-sync-version" in created.headers
    duplicate = conforms(spec, skills, api.post(skills, json={"name": "chess", "category": "mind", "level": 1},
                                                 headers=auth))
    assert duplicate.status_code == 409
    url = f"{skills}/{created.json()['id']}"
    first = conforms(spec, one, api.get(url, headers=auth))
    assert first.status_code == 200 and first.headers["etag"]
    again = conforms(spec, one, api.get(url, headers={**auth, "if-none-match": first.headers["etag"]}))
    assert again.status_code == 304
    listed = conforms(spec, skills, api.get(skills, headers=auth))
    assert conforms(spec, skills, api.get(skills, headers={**auth, "if-none-match": listed.headers["etag"]})
                    ).status_code == 304
    assert conforms(spec, one, api.patch(url, json={"level": 3, "note": "club"}, headers=auth)).status_code == 200
    stale = conforms(spec, one, api.patch(url, json={"level": 4}, headers={**auth, "if-match": first.headers["etag"]}))
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "precondition_failed"
    keyed = {**auth, "idempotency-key": "conformance-1"}
    body = {"name": "Go", "category": "mind", "level": 1}
    assert conforms(spec, skills, api.post(skills, json=body, headers=keyed)).status_code == 201
    replay = conforms(spec, skills, api.post(skills, json=body, headers=keyed))
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    reused = conforms(spec, skills, api.post(skills, json={**body, "level": 2}, headers=keyed))
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert conforms(spec, one, api.patch(url, json={"level": 11}, headers=auth)).status_code == 422
    assert conforms(spec, one, api.delete(url, headers=auth)).status_code == 204
    assert conforms(spec, one, api.get(url, headers=auth)).status_code == 404


def test_sync_profile_and_rate_limits_answer_as_documented(api, spec):
    auth = _signed_in(api, spec, "grace")
    ahead = conforms(spec, "/api/v1/sync", api.get("/api/v1/sync", params={"since": 999}, headers=auth))
    assert ahead.status_code == 409 and ahead.json()["error"]["code"] == "version_ahead"
    profile = conforms(spec, "/api/v1/me/profile", api.get("/api/v1/me/profile", headers=auth))
    assert conforms(spec, "/api/v1/me/profile", api.get(
        "/api/v1/me/profile", headers={**auth, "if-none-match": profile.headers["etag"]})).status_code == 304
    card = conforms(spec, "/api/v1/users/{username}/card.svg", api.get("/api/v1/users/grace/card.svg"))
    assert card.status_code in (200, 404)
    statuses = [conforms(spec, "/api/v1/auth/login", api.post(
        "/api/v1/auth/login", json={"username": "grace", "password": "wrong password!"})).status_code
        for _ in range(12)]
    assert statuses[0] == 401 and statuses[-1] == 429


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or {"type": "null"} in schema.get("anyOf", [])


@pytest.mark.parametrize(("body_schema", "path"), [("SkillUpdate", "/api/v1/skills/{id}"),
                                                    ("ProfileUpdate", "/api/v1/me/profile")])
def test_patch_fields_are_nullable_exactly_where_the_server_accepts_null(api, spec, body_schema, path):
    auth = _signed_in(api, spec, "lin")
    skill = api.post("/api/v1/skills", json={"name": "Go", "category": "mind", "level": 1}, headers=auth).json()
    url = path.replace("{id}", skill["id"])
    properties = spec["components"]["schemas"][body_schema]["properties"]
    assert any(_nullable(p) for p in properties.values()) and not all(_nullable(p) for p in properties.values())
    for field, schema in properties.items():
        answer = api.patch(url, json={field: None}, headers=auth)
        assert answer.status_code == (200 if _nullable(schema) else 422), (field, answer.text)
