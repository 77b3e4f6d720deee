"""CORS at the local API Gateway, over real HTTP, as the template's CorsConfiguration says."""

from __future__ import annotations

import httpx
import pytest

from local.cors import CorsConfig, http_api_cors
from shared.http import cors
from tests.support.gateway import local_gateway

APP = "http://localhost:5173"
FOREIGN = "https://evil.example"
PREFLIGHT = {"access-control-request-method": "POST",
             "access-control-request-headers": "authorization,content-type"}


@pytest.fixture(scope="module")
def gateway(stack):
    with local_gateway() as url:
        yield url


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


@pytest.mark.parametrize("path", ["/api/v1/skills", "/api/v1/auth/login",
                                  "/api/v1/skills/3f1c2a9e-0000-4000-8000-000000000000"])
def test_a_preflight_from_an_allowed_origin_gets_the_template_headers(gateway, path):
    response = httpx.options(f"{gateway}{path}", headers={"origin": APP, **PREFLIGHT})
    assert response.status_code == 204 and response.content == b""
    assert cors_headers(response) == {
        "access-control-allow-origin": APP,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET,POST,PATCH,PUT,DELETE,OPTIONS",
        "access-control-allow-headers": ",".join(cors.OPTIONS["allow_headers"]),  # = the template's (test_cors)
        "access-control-max-age": "600",
    }


def test_a_preflight_from_a_foreign_origin_gets_no_allow_headers(gateway):
    response = httpx.options(f"{gateway}/api/v1/skills", headers={"origin": FOREIGN, **PREFLIGHT})
    assert response.status_code == 204
    assert cors_headers(response) == {}


def test_an_options_request_that_is_not_a_preflight_reaches_the_routes(gateway):
    response = httpx.options(f"{gateway}/api/v1/health", headers={"origin": APP})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_actual_responses_carry_origin_credentials_and_exposed_headers(gateway):
    ok = httpx.get(f"{gateway}/api/v1/health", headers={"origin": APP})
    unauthorized = httpx.get(f"{gateway}/api/v1/auth/me", headers={"origin": APP})
    assert unauthorized.status_code == 401  # the browser can read the envelope of an error too
    for response in (ok, unauthorized):
        assert cors_headers(response) == {
            "access-control-allow-origin": APP,
            "access-control-allow-credentials": "true",
            "access-control-expose-headers": ",".join(cors.OPTIONS["expose_headers"]),
        }


def test_actual_responses_to_a_foreign_origin_carry_no_cors_headers(gateway):
    response = httpx.get(f"{gateway}/api/v1/health", headers={"origin": FOREIGN})
    assert response.status_code == 200
    assert cors_headers(response) == {}


def test_the_integrations_own_cors_headers_are_replaced_like_api_gateway_does():
    cors = CorsConfig(allow_origins=(APP,), expose_headers=("etag",))
    integration = [("content-type", "application/json"), ("Access-Control-Allow-Origin", "*"),
                   ("access-control-expose-headers", "x-secret")]
    assert cors.actual(FOREIGN, integration) == [("content-type", "application/json")]
    assert cors.actual(APP, integration) == [("content-type", "application/json"),
                                             ("access-control-allow-origin", APP),
                                             ("access-control-expose-headers", "etag")]


def test_allowed_origins_come_from_the_environment_else_the_template_default(monkeypatch):
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    assert http_api_cors().allow_origins == (APP,)
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://app.atribuo.app, http://10.0.2.2:5173")
    config = http_api_cors()
    assert config.allow_origins == ("https://app.atribuo.app", "http://10.0.2.2:5173")
    assert config.allows("http://10.0.2.2:5173") and not config.allows(APP)


def test_a_wildcard_origin_without_credentials_answers_star():
    cors = CorsConfig(allow_origins=("*",), allow_methods=("GET",))
    assert ("access-control-allow-origin", "*") in cors.preflight(FOREIGN)
    assert cors.preflight(None) == []
