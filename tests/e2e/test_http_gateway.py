"""The local API Gateway over real HTTP: routes from template.yaml, v2 events, envelopes, docs."""

from __future__ import annotations

import httpx
import pytest

from tests.support.gateway import local_gateway


@pytest.fixture(scope="module")
def gateway(stack):
    with local_gateway() as url:
        yield url


def test_health_through_the_gateway(gateway):
    response = httpx.get(f"{gateway}/api/v1/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok" and response.json()["redis"] == "ok"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_unknown_route_is_a_404_envelope(gateway):
    response = httpx.get(f"{gateway}/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_is_a_405_envelope(gateway):
    response = httpx.post(f"{gateway}/api/v1/health", json={})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


def test_repeated_query_values_and_cookies_reach_the_handler_as_aws_sends_them():
    from local.http_event import build_http_event

    event = build_http_event(method="GET", path="/x", route_key="GET /x", raw_query="a=1&a=2&b=3",
                             headers=[("Cookie", "c1=1; c2=2"), ("X-Multi", "v1"), ("x-multi", "v2")])
    assert event["queryStringParameters"] == {"a": "1,2", "b": "3"}
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert event["headers"]["x-multi"] == "v1,v2"


def test_binary_bodies_are_base64_encoded():
    from local.http_event import build_http_event

    event = build_http_event(method="POST", path="/x", route_key="POST /x",
                             headers=[("content-type", "image/png")], body=b"\x89PNG\r\n")
    assert event["isBase64Encoded"] is True and event["body"] == "iVBORw0K"


def test_swagger_ui_and_merged_openapi(gateway):
    assert "swagger-ui" in httpx.get(f"{gateway}/docs").text
    spec = httpx.get(f"{gateway}/openapi.json").json()
    assert "/api/v1/health" in spec["paths"]


def test_a_json_labelled_body_that_is_not_utf8_travels_base64_encoded():
    """Found by the fuzzer: such a body used to crash the gateway with a 500."""
    from local.http_event import build_http_event

    event = build_http_event(method="POST", path="/x", route_key="POST /x",
                             headers=[("content-type", "application/json")], body=b'{"a": "\xd7"}')
    assert event["isBase64Encoded"] is True
