"""``asyncapi.yaml`` is a valid AsyncAPI 3 document, and the frames real connections receive match it.

The document is checked against the official AsyncAPI 3.0.0 JSON Schema (the ``@asyncapi/specs`` npm
package, pinned in clients/typescript's lockfile); the frames come from real WebSocket clients through
the local gateways, caused by real requests (writes, an offline conflict, pings, bad frames).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from websockets.sync.client import ClientConnection

from shared.clients import db
from shared.sync.fanout import publish
from tests.support.events import ROOT
from tests.support.gateway import local_api
from tests.support.realtime import open_socket_with_hello, recv_json
from tests.support.typescript import SDK, installed

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("ws_gateway")]
DOCUMENT = ROOT / "asyncapi.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text())


@pytest.fixture(scope="module")
def api(stack) -> Iterator[httpx.Client]:
    with local_api(timeout=15) as client:
        yield client


def check(document: dict[str, Any], frame: dict[str, Any]) -> str:
    """Validate ``frame`` against the message its ``type`` names; returns that name."""
    name = frame["type"]
    assert name in document["components"]["messages"], f"a frame type the document lacks: {name}"
    root = {**document, "$ref": f"#/components/messages/{name}/payload"}
    jsonschema.Draft7Validator(root, format_checker=jsonschema.FormatChecker()).validate(frame)
    return name


def test_the_document_is_valid_asyncapi_3(document):
    schema = json.loads((installed() / "node_modules" / "@asyncapi" / "specs" / "schemas" /
                         "3.0.0-without-$id.json").read_text())
    jsonschema.Draft7Validator(schema).validate(document)
    received = {m["$ref"].rsplit("/", 1)[-1] for op in document["operations"].values()
                if op["action"] == "receive" for m in op["messages"]}
    assert received == {"hello", "change", "conflict", "resync", "error"}


def test_the_sdk_frame_types_are_the_documents_messages(document):
    source = (SDK / "src" / "realtime.ts").read_text()
    typed = set(re.findall(r"\{ type: '(\w+)'|& \{ type: '(\w+)' \}|type: '(\w+)';", source))
    names = {n for group in typed for n in group if n}
    assert names == set(document["components"]["messages"]) - {"ping"}


def _auth(api: httpx.Client, name: str) -> dict[str, str]:
    body = {"username": name, "email": f"{name}@example.com", "password": "correct horse battery"}
    assert api.post("/api/v1/auth/register", json=body).status_code == 201
    token = api.post("/api/v1/auth/login", json={"username": name, "password": body["password"]}).json()
    return {"authorization": f"Bearer {token['access_token']}"}


def _user_id(name: str) -> Any:
    return db.get_conn().execute("SELECT id FROM users WHERE username = %s", (name,)).fetchone()["id"]


def _next(sock: ClientConnection) -> dict[str, Any]:
    return recv_json(sock, timeout=10)


def test_real_frames_match_the_document(api, document):
    auth = _auth(api, "ada")
    seen: set[str] = set()
    device, hello = open_socket_with_hello(_user_id("ada"))
    with device:
        seen.add(check(document, hello))

        skill = api.post("/api/v1/skills", json={"name": "Chess", "category": "mind", "level": 2}, headers=auth)
        assert skill.status_code == 201
        seen.add(check(document, created := _next(device)))
        assert created["entity"] == "skill" and created["op"] == "upsert"
        assert check(document, award := _next(device)) == "change"  # the achievement the skill earned
        assert award["entity"] == "achievement" and award["data"]["code"] == "first_skill"
        assert api.patch("/api/v1/me/profile", json={"bio": "hi"}, headers=auth).status_code == 200
        assert check(document, profile := _next(device)) == "change" and profile["entity"] == "profile"

        stale = {"op_id": "phone-1", "type": "skill.update", "skill_id": skill.json()["id"], "data": {"level": 1},
                 "updated_at": "2020-01-01T00:00:00Z", "base_updated_at": "2020-01-01T00:00:00Z"}
        assert api.post("/api/v1/sync/batch", json={"operations": [stale]}, headers=auth).status_code == 200
        seen.add(check(document, _next(device)))

        assert api.delete(f"/api/v1/skills/{skill.json()['id']}", headers=auth).status_code == 204
        assert check(document, deleted := _next(device)) == "change" and deleted["data"] is None

        publish(_user_id("ada"), {"type": "change", "version": 99, "data": {"blob": "x" * 40_000}})
        seen.add(check(document, _next(device)))  # too big to push: a resync hint

        device.send(json.dumps({"action": "ping"}))
        seen.add(check(document, _next(device)))
        for bad in ("not json", json.dumps({"hello": 1}), json.dumps({"action": "dance"})):
            device.send(bad)
            seen.add(check(document, _next(device)))
        db.get_conn().execute("DELETE FROM ws_connections WHERE connection_id = %s", (hello["connection_id"],))
        device.send(json.dumps({"action": "ping"}))
        assert check(document, gone := _next(device)) == "error" and gone["code"] == "not_registered"
    assert seen == {"hello", "change", "conflict", "resync", "pong", "error"}


def test_frames_that_break_the_document_are_caught(document):
    with pytest.raises(jsonschema.ValidationError):
        check(document, {"type": "hello", "connection_id": "abc="})
    with pytest.raises(jsonschema.ValidationError):
        check(document, {"type": "change", "version": 1, "entity": "skill", "entity_id": "not-a-uuid",
                         "op": "upsert", "data": None})
    with pytest.raises(AssertionError):
        check(document, {"type": "surprise"})
