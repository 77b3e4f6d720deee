"""GET /api/v1/health through the real handler, against real and then stopped dependencies."""

from __future__ import annotations

import shutil

import pytest

from functions.health.app import handler
from local import servers
from shared.clients.registry import reset_all
from tests.support import EVENTS, http_event, invoke, load_event


def test_recorded_event_reports_both_dependencies_ok():
    response = invoke(handler, load_event("event-get-health"))
    assert response.status == 200, response
    body = response.json
    assert body["status"] == "ok" and body["database"] == "ok" and body["redis"] == "ok"
    assert body["version"] and body["timestamp"]
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("style", ["aws", "sam"])
def test_both_event_styles(style):
    assert invoke(handler, http_event("GET", "/api/v1/health", style=style)).status == 200


def test_aws_reference_event_shape_is_accepted():
    """The Powertools-recorded event (cookies, comma-joined query, authorizer block), re-pointed at /health."""
    import json

    event = json.loads((EVENTS / "event-aws-http-api-v2.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/v1/health"
    event["requestContext"]["http"]["method"] = "GET"
    event.pop("body")
    assert invoke(handler, event).status == 200


def test_cache_down_is_503_with_a_clear_message(stack):
    stack.stop_bridge()
    try:
        reset_all()
        response = invoke(handler, load_event("event-get-health"))
    finally:
        stack.start_bridge()
    assert response.status == 503
    assert response.json["database"] == "ok"
    assert response.json["redis"].startswith("error: redis unreachable")


def test_database_down_is_503_and_recovers_when_it_returns(monkeypatch):
    folder = servers.service_dir()
    pg = servers.start_postgres(folder / "pg")
    monkeypatch.setenv("DATABASE_URL", pg.url)
    reset_all()
    assert invoke(handler, load_event("event-get-health")).status == 200
    pg.stop()
    response = invoke(handler, load_event("event-get-health"))
    assert response.status == 503
    assert response.json["database"].startswith("error: database unreachable")
    assert response.json["redis"] == "ok"
    pg = servers.start_postgres(folder / "pg")
    try:
        assert invoke(handler, load_event("event-get-health")).status == 200  # reconnects by itself
    finally:
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)
