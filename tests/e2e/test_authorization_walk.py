"""The two-user authorization walk, over real HTTP through the local gateway, built from the merged OpenAPI.

Alice owns one of everything that has an id (a skill with history, a conflict, a device session, a linked
identity) and keeps her profile private. Bob, signed in, then calls every operation of the contract:

- each operation that takes an id, once with Alice's id and once with an id that does not exist: the two
  answers must be identical (status, error code, message) and a 4xx — no oracle, no access;
- each GET without an id: nothing he reads may carry Alice's markers (a private user appears nowhere);
- Alice's own view of her data (`GET /sync` snapshot, sessions, identities) is unchanged afterwards.

It grows with the contract: an operation whose path parameter, required query parameter or required body
the walk cannot fill fails the test, so a new route must be taught here before it ships.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from local.openapi import merged_openapi
from tests.support.gateway import local_api

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough passphrase"
MARKER = "zqxwalk"  # in Alice's username, display name, skill name and note: must reach Bob nowhere
ALICE = f"alice_{MARKER}"
METHODS = ("get", "post", "put", "patch", "delete")
PARAM = re.compile(r"\{([^}]+)\}")

# Path parameters that are not object ids (a route's fixed vocabulary): the walk uses a valid value.
NOT_IDS = {"provider": "google"}
# Request bodies that pass validation, so the ownership check (not a 422) answers Bob.
BODIES: dict[str, Any] = {"skills.update": {"level": 4}}
# Required query parameters of id-less GETs, filled with values that would find Alice if anything could.
QUERIES: dict[str, dict[str, str]] = {
    "users.search": {"q": ALICE},
    "profile.statsSeries": {"from": "2020-01-01", "to": "2030-01-01"},
    "digest.unsubscribe": {"token": "not-a-token"},
}
# More queries of an id-less GET that answer something else, each read too (issue 17: the caller's
# window on a board, where Alice, private and close in score to Bob, must not appear).
VARIANTS: dict[str, list[dict[str, str]]] = {
    "leaderboard.get": [{"around": "me"}, {"around": "me", "category": "mind"}, {"category": "mind"}],
}


def operations() -> Iterator[tuple[str, str, dict]]:
    for path, item in merged_openapi()["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def register(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/auth/register", json={"username": username, "email": f"{username}@example.com",
                                                   "password": PASSWORD}, headers={"user-agent": "walk"})
    assert response.status_code == 201, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


def alice_owns_everything(client: httpx.Client, headers: dict[str, str]) -> dict[str, str]:
    """Alice's ids, one per kind of owned object, made through the API (the identity through the repository:
    a provider round trip adds nothing to what Bob may see)."""
    profile = client.patch("/me/profile", headers=headers, json={
        "display_name": f"Alice {MARKER}", "privacy_settings": {"profile_visibility": "private"}})
    assert profile.status_code == 200, profile.text
    created = client.post("/skills", headers=headers, json={"name": f"Chess {MARKER}", "category": "mind",
                                                           "level": 2, "note": f"opening {MARKER}",
                                                           "goal": {"target_level": 9, "target_date": "2030-01-01"}})
    assert created.status_code == 201, created.text
    skill, etag = created.json(), created.headers["etag"]
    assert MARKER.encode() in client.get("/me/goals", headers=headers).content  # hers: what Bob must never see
    path = f"/skills/{skill['id']}"
    assert client.patch(path, headers={**headers, "if-match": etag}, json={"level": 3}).status_code == 200
    lost = client.patch(path, headers={**headers, "if-match": etag}, json={"level": 8})
    assert lost.status_code == 412, lost.text
    sessions = client.get("/me/sessions", headers=headers).json()["sessions"]
    user_id = client.get("/auth/me", headers=headers).json()["id"]
    return {"skill_id": skill["id"], "conflict_id": lost.json()["error"]["details"]["conflict"]["id"],
            "session_id": sessions[0]["id"], "identity_id": link_identity(user_id), "username": ALICE}


def link_identity(user_id: str) -> str:
    from shared.clients import db
    from shared.repositories import identities

    with db.get_conn().transaction():
        row = identities.insert(db.get_conn(), user_id=uuid.UUID(user_id), provider="google",
                                subject=f"walk-{user_id}", email="alice@example.com", email_verified=True)
    return str(row["identity"]["id"])


def missing(name: str) -> str:
    return "nobody-here" if name == "username" else str(uuid.uuid4())


def fill(path: str, value_of: Callable[[str], str]) -> str:
    return PARAM.sub(lambda m: NOT_IDS.get(m.group(1)) or value_of(m.group(1)), path).removeprefix("/api/v1")


def answer(response: httpx.Response) -> tuple[int, Any]:
    """What a caller learns: the status and the body (an envelope's request id aside)."""
    if not response.content or "json" not in response.headers.get("content-type", ""):
        return response.status_code, response.content
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body["error"].pop("request_id", None)
    return response.status_code, body


def alices_view(client: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    snapshot = client.get("/sync", headers=headers).json()
    snapshot.pop("server_time", None)
    return {"sync": snapshot, "sessions": client.get("/me/sessions", headers=headers).json(),
            "identities": client.get("/me/identities", headers=headers).json()}


@pytest.fixture
def client(stack, ws_gateway) -> Iterator[httpx.Client]:
    with local_api("/api/v1", timeout=15) as client:
        yield client


def test_bob_gets_from_alices_ids_exactly_what_he_gets_from_ids_that_do_not_exist(client):
    alice = register(client, ALICE)
    ids = alice_owns_everything(client, alice)
    bob = register(client, "bob")
    before = alices_view(client, alice)

    walked = []
    for method, path, operation in operations():
        names = [n for n in PARAM.findall(path) if n not in NOT_IDS]
        if not names:
            continue
        unknown = [n for n in names if n not in ids]
        assert not unknown, f"{operation['operationId']}: teach the walk an owned object for {unknown}"
        needs_body = operation.get("requestBody", {}).get("required", False)
        assert not needs_body or operation["operationId"] in BODIES, \
            f"{operation['operationId']}: teach the walk a valid body"
        body = BODIES.get(operation["operationId"])
        theirs = client.request(method, fill(path, ids.__getitem__), headers=bob, json=body)
        nobodys = client.request(method, fill(path, missing), headers=bob, json=body)
        assert answer(theirs) == answer(nobodys), f"{method.upper()} {path} tells Alice's id from a missing one"
        assert 400 <= theirs.status_code < 500, f"{method.upper()} {path} gave Bob {theirs.status_code}"
        walked.append(operation["operationId"])

    assert {"skills.get", "skills.update", "skills.delete", "sync.ackConflict", "account.signOutDevice",
            "identities.delete", "users.get", "users.card"} <= set(walked)
    assert alices_view(client, alice) == before


def test_nothing_bob_or_a_stranger_can_read_carries_a_private_users_data(client):
    alice = register(client, ALICE)
    alice_owns_everything(client, alice)
    bob = register(client, "bob")
    client.post("/skills", headers=bob, json={"name": "Go", "category": "mind", "level": 4})

    read = []
    for method, path, operation in operations():
        if method != "get" or PARAM.search(path):
            continue
        required = [p["name"] for p in operation.get("parameters", []) if p.get("required") and p["in"] == "query"]
        query = QUERIES.get(operation["operationId"], {})
        assert set(required) <= set(query), f"{operation['operationId']}: teach the walk {required}"
        for params in (query, *VARIANTS.get(operation["operationId"], [])):
            for who in (bob, {}):
                response = client.get(path.removeprefix("/api/v1"), headers=who, params=params)
                assert response.status_code < 500, f"GET {path}: {response.status_code}"
                assert MARKER.encode() not in response.content, f"GET {path} {params} shows Alice's private data"
        read.append(operation["operationId"])

    assert {"leaderboard.get", "leaderboard.me", "leaderboard.distribution", "users.search", "skills.list",
            "sync.get", "profile.get", "goals.list"} <= set(read)
