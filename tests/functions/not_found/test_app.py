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
