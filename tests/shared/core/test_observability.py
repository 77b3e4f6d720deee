"""Powertools Metrics from the real handlers (issue 11): ColdStart on a container's first invocation,
business metrics counted where they happen, each invocation's metrics printed as ONE EMF line when it
ends, and no dimension that could name a user (the service and, on ColdStart, the function only).

EMF output is read from stdout with capsys, as Powertools documents for testing metrics.
"""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.metrics.provider import cold_start

from functions.auth.app import handler as auth
from functions.health.app import handler as health
from functions.realtime.app import handler as realtime
from functions.skills.app import handler as skills
from local.servers import free_port
from local.template import function_module, functions
from shared.core import observability
from tests.support import emf
from tests.support.events import http_event, invoke
from tests.support.skills import call

LOW_CARDINALITY = {"service", "function_name"}
UNOBSERVED = {"NotFoundFunction"}  # standard library only (no Powertools import): the gateway's 404/405


def _emitted(capsys) -> list[dict]:
    found = emf.blobs(capsys.readouterr().out)
    for blob in found:
        assert emf.dimensions(blob) <= LOW_CARDINALITY, blob
        assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Atribuo"
    return found


def _skill(headers, level=3) -> dict:
    response = call(skills, "POST", "/api/v1/skills", headers, {"name": "Guitar", "category": "music", "level": level})
    assert response.status == 201, response
    return response.json


@pytest.mark.parametrize("name", sorted(set(functions()) - UNOBSERVED))
def test_every_function_handler_is_observed(name):
    handler = importlib.import_module(function_module(name)).handler
    assert getattr(handler, "__observed__", False), f"{name}: wrap its handler with shared.core.observability.observed"


def test_the_cold_start_metric_is_emitted_once_per_container(capsys):
    cold_start.reset_cold_start_flag()  # Powertools' own reset, for tests
    capsys.readouterr()
    assert invoke(health, http_event("GET", "/api/v1/health"), function_name="health").status in (200, 503)
    first = _emitted(capsys)
    assert [emf.total(first, observability.COLD_START)] == [1]
    [blob] = [b for b in first if observability.COLD_START in emf.names(b)]
    assert blob["function_name"] == "health"
    invoke(health, http_event("GET", "/api/v1/health"), function_name="health")
    assert emf.total(_emitted(capsys), observability.COLD_START) == 0


def test_metrics_are_flushed_once_per_invocation(make_user, capsys):
    _, headers = make_user("alice")
    capsys.readouterr()
    missing = call(skills, "GET", f"/api/v1/skills/{uuid.uuid4()}", headers)
    assert missing.status == 404
    found = [b for b in _emitted(capsys) if observability.COLD_START not in emf.names(b)]
    assert len(found) == 1 and emf.total(found, "Http4xx") == 1
    assert call(skills, "GET", "/api/v1/skills", headers).status == 200
    assert [b for b in _emitted(capsys) if observability.COLD_START not in emf.names(b)] == []  # nothing counted


def test_a_registration_counts_a_sign_up(capsys):
    body = {"username": "quester", "email": "quester@example.com", "password": "a long enough passphrase"}
    capsys.readouterr()
    assert invoke(auth, http_event("POST", "/api/v1/auth/register", body=body)).status == 201
    assert emf.total(_emitted(capsys), observability.SIGN_UPS) == 1
    assert invoke(auth, http_event("POST", "/api/v1/auth/register", body=body)).status == 409
    assert emf.total(_emitted(capsys), observability.SIGN_UPS) == 0


def test_a_level_up_over_rest_counts_and_a_level_down_does_not(make_user, capsys):
    _, headers = make_user("alice")
    skill = _skill(headers, level=3)
    assert emf.total(_emitted(capsys), observability.LEVEL_UPS) == 0  # a new skill's level is not a level-up
    path = f"/api/v1/skills/{skill['id']}"
    assert call(skills, "PATCH", path, headers, {"level": 5}).status == 200
    assert emf.total(_emitted(capsys), observability.LEVEL_UPS) == 1
    assert call(skills, "PATCH", path, headers, {"level": 4}).status == 200
    assert call(skills, "PATCH", path, headers, {"description": "nylon strings"}).status == 200
    assert emf.total(_emitted(capsys), observability.LEVEL_UPS) == 0


def test_level_ups_in_an_offline_batch_count_once_each_and_not_on_replay(make_user, capsys):
    _, headers = make_user("alice")
    sid = str(uuid.uuid4())
    ops = [
        {"op_id": "a", "type": "skill.create", "skill_id": sid,
         "data": {"name": "Run", "category": "fitness", "level": 2}, "updated_at": "2026-11-20T18:30:00Z"},
        {"op_id": "b", "type": "skill.update", "skill_id": sid, "data": {"level": 4},
         "updated_at": "2026-11-20T18:31:00Z"},
        {"op_id": "c", "type": "skill.update", "skill_id": sid, "data": {"level": 3},
         "updated_at": "2026-11-20T18:32:00Z"},
        {"op_id": "d", "type": "skill.update", "skill_id": sid, "data": {"level": 7},
         "updated_at": "2026-11-20T18:33:00Z"},
    ]
    batch = http_event("POST", "/api/v1/sync/batch", headers=headers, body={"operations": ops})
    capsys.readouterr()
    response = invoke(realtime, batch)
    assert [r["status"] for r in response.json["results"]] == ["applied"] * 4, response
    assert emf.total(_emitted(capsys), observability.LEVEL_UPS) == 2
    replay = invoke(realtime, http_event("POST", "/api/v1/sync/batch", headers=headers, body={"operations": ops}))
    assert all(r.get("replayed") for r in replay.json["results"]), replay
    assert emf.total(_emitted(capsys), observability.LEVEL_UPS) == 0


def test_a_recorded_conflict_counts(make_user, capsys):
    _, headers = make_user("alice")
    created = call(skills, "POST", "/api/v1/skills", headers, {"name": "Chess", "category": "mind", "level": 1})
    path, etag = f"/api/v1/skills/{created.json['id']}", created.headers["etag"]
    assert call(skills, "PATCH", path, {**headers, "if-match": etag}, {"level": 2}).status == 200
    assert emf.total(_emitted(capsys), observability.CONFLICTS) == 0
    lost = call(skills, "PATCH", path, {**headers, "if-match": etag}, {"level": 9})
    assert lost.status == 412 and lost.json["error"]["details"]["conflict"], lost
    assert emf.total(_emitted(capsys), observability.CONFLICTS) == 1


def test_a_failed_push_to_a_device_counts_as_a_fan_out_failure(make_user, monkeypatch, capsys):
    """A management API that refuses connections (a closed port): the post fails, the write stands."""
    from shared.clients import db
    from shared.clients.registry import reset_all
    from shared.repositories import connections

    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", f"http://127.0.0.1:{free_port()}")
    reset_all()
    user, headers = make_user("alice")
    for device in ("device-1", "device-2"):
        db.run(lambda conn, device=device: connections.register(
            conn, connection_id=device, user_id=user["id"], connected_at=datetime.now(UTC), max_lifetime_s=7200))
    capsys.readouterr()
    _skill(headers)
    found = _emitted(capsys)
    assert emf.total(found, observability.FAN_OUT_FAILURES) == 2
    assert len([b for b in found if observability.COLD_START not in emf.names(b)]) == 1  # one line, both posts
