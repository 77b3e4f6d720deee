"""The API factory: one error envelope, security headers, request ids and body gates for every function."""

from __future__ import annotations

import pytest
from mangum import Mangum
from pydantic import BaseModel, Field

from shared.core.errors import ConflictError, RateLimitedError
from shared.http.app import api_router, create_app
from tests.support import http_event, invoke

router = api_router("/things")


class ThingCreate(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    level: int = Field(ge=1, le=10)


@router.post("", status_code=201)
async def create_thing(body: ThingCreate) -> dict:
    if body.name == "dup":
        raise ConflictError("a thing with that name exists", details={"field": "name"})
    if body.name == "slow":
        raise RateLimitedError("slow down", headers={"Retry-After": "7"})
    if body.name == "boom":
        raise RuntimeError("database password is hunter2")
    return body.model_dump()


@pytest.fixture(scope="module")
def handler():
    return Mangum(create_app(router), lifespan="off")


def post(handler, body, **kwargs):
    return invoke(handler, http_event("POST", "/api/v1/things", body=body, **kwargs))


def assert_envelope(response, status, code):
    assert response.status == status, response
    assert response.headers["content-type"] == "application/json"
    assert set(response.json) == {"error"}
    assert set(response.json["error"]) == {"code", "message", "details"}
    assert response.json["error"]["code"] == code


@pytest.mark.parametrize("style", ["aws", "sam"])
def test_valid_request_in_both_event_styles(handler, style):
    response = post(handler, {"name": "ok", "level": 3}, style=style)
    assert response.status == 201
    assert response.json == {"name": "ok", "level": 3}


def test_validation_error_names_the_field(handler):
    response = post(handler, {"name": "ok", "level": 11})
    assert_envelope(response, 422, "validation_error")
    assert [d["field"] for d in response.json["error"]["details"]] == ["body.level"]
    assert "body.level" in response.json["error"]["message"]


def test_body_that_is_not_json_is_400(handler):
    assert_envelope(post(handler, b"{not json"), 400, "invalid_json")


def test_wrong_content_type_is_415(handler):
    response = post(handler, b"name=x", headers={"content-type": "application/x-www-form-urlencoded"})
    assert_envelope(response, 415, "unsupported_media_type")


def test_oversized_body_is_413(handler):
    assert_envelope(post(handler, {"name": "x" * 70_000, "level": 1}), 413, "payload_too_large")


def test_typed_errors_keep_status_details_and_headers(handler):
    conflict = post(handler, {"name": "dup", "level": 1})
    assert_envelope(conflict, 409, "conflict")
    assert conflict.json["error"]["details"] == {"field": "name"}
    limited = post(handler, {"name": "slow", "level": 1})
    assert_envelope(limited, 429, "rate_limited")
    assert limited.headers["retry-after"] == "7"


def test_unexpected_error_is_a_generic_500_without_internals(handler):
    response = post(handler, {"name": "boom", "level": 1})
    assert_envelope(response, 500, "internal_error")
    assert b"hunter2" not in response.body and b"Traceback" not in response.body


def test_unknown_route_and_wrong_method_use_the_envelope(handler):
    assert_envelope(invoke(handler, http_event("GET", "/api/v1/nope")), 404, "not_found")
    wrong = invoke(handler, http_event("DELETE", "/api/v1/things"))
    assert_envelope(wrong, 405, "method_not_allowed")
    assert "POST" in wrong.headers["allow"]


def test_security_headers_and_request_id_on_every_response(handler):
    event = http_event("POST", "/api/v1/things", body={"name": "ok", "level": 1})
    ok = invoke(handler, event)
    error = post(handler, {"level": 0})
    for response in (ok, error):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "max-age" in response.headers["strict-transport-security"]
        assert response.headers["referrer-policy"] == "no-referrer"
    assert ok.headers["x-request-id"] == event["requestContext"]["requestId"]


def test_cors_preflight_for_an_allowed_origin_only(handler):
    headers = {"origin": "http://localhost:5173", "access-control-request-method": "POST"}
    allowed = invoke(handler, http_event("OPTIONS", "/api/v1/things", headers=headers))
    assert allowed.status == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    denied = invoke(handler, http_event("OPTIONS", "/api/v1/things",
                                        headers={**headers, "origin": "https://evil.example"}))
    assert "access-control-allow-origin" not in denied.headers


def test_openapi_documents_the_error_envelope(handler):
    spec = handler.app.openapi()
    responses = spec["paths"]["/api/v1/things"]["post"]["responses"]
    assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")


def test_a_nul_character_in_text_is_a_422_not_a_database_error(handler):
    """Postgres text cannot store U+0000: found by the fuzzer as a 500 on every text field."""
    response = post(handler, b'{"name": "a\\u0000b", "level": 1}')
    assert_envelope(response, 422, "nul_character")
    escaped = post(handler, b'{"name": "a\\\\u0000", "level": 1}')  # a backslash, then the text u0000
    assert escaped.status == 201
    query = invoke(handler, http_event("GET", "/api/v1/nope", query={"q": "a\x00b"}))
    assert_envelope(query, 422, "nul_character")


def test_a_value_postgres_refuses_is_a_422(handler):
    """Defence in depth: a psycopg DataError that slipped past validation is the caller's error, not a 500."""
    import psycopg

    from shared.clients.failures import infrastructure_error

    error = infrastructure_error(psycopg.DataError("invalid input"))
    assert error is not None and error.status_code == 422


def test_a_body_larger_than_declared_is_still_a_413(handler):
    event = http_event("POST", "/api/v1/things", body={"name": "x" * 70_000, "level": 1})
    del event["headers"]["content-length"]
    assert_envelope(invoke(handler, event), 413, "payload_too_large")


def test_a_router_outside_the_api_prefix_is_refused_at_import():
    """A plain APIRouter would serve outside /api/v1, where the template routes nothing."""
    from fastapi import APIRouter

    stray = APIRouter(prefix="/things")
    stray.add_api_route("", create_thing, methods=["POST"])
    with pytest.raises(ValueError, match="api_router"):
        create_app(stray)


def test_routes_are_built_once_at_import():
    """The app serves the router's own route objects: FastAPI has nothing left to build lazily."""
    app = create_app(router)
    assert [r for r in app.router.routes if getattr(r, "path", "") == "/api/v1/things"] == router.routes
