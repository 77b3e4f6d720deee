"""The $default route: unknown paths → 404 envelope, known paths with another method → 405."""

from __future__ import annotations

from functions.not_found.app import ROUTES_FILE, handler
from local.routes_json import render
from tests.support import http_event, invoke


def test_unknown_path_is_a_404_envelope():
    response = invoke(handler, http_event("GET", "/api/v1/nothing-here", route="$default"))
    assert response.status == 404
    assert response.json["error"]["code"] == "not_found"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_known_path_with_wrong_method_is_a_405_with_allow():
    response = invoke(handler, http_event("DELETE", "/api/v1/health", route="$default"))
    assert response.status == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


def test_route_table_matches_template():
    assert ROUTES_FILE.read_text() == render(), "run `make routes` after changing template.yaml"


def test_security_headers_and_envelope_match_every_other_function():
    """$default has no FastAPI, so it spells the edge's headers and envelope itself: keep them equal."""
    from shared.http.edge import SECURITY_HEADERS
    from shared.models.errors import ErrorEnvelope

    response = invoke(handler, http_event("GET", "/api/v1/nothing-here", route="$default"))
    expected = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    assert {name: response.headers[name] for name in expected} == expected
    assert response.headers["content-type"] == "application/json"
    assert ErrorEnvelope.model_validate(response.json).error.code == "not_found"
    assert set(response.json["error"]) == set(ErrorEnvelope.model_fields["error"].annotation.model_fields)
