"""The caller's address behind CloudFront: ``CloudFront-Viewer-Address`` counts only with the stage's
origin secret (``X-Origin-Verify``), for the rate limits too; the secret never reaches a route.

The rate-limit cases go through the real auth function (login: 10 attempts per minute for one name
from one address) against the local stack's Redis, as in tests/functions/auth.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi import Request
from mangum import Mangum

from functions.auth.app import handler as auth_handler
from shared.clients.registry import reset_all
from shared.http.app import api_router, create_app
from shared.http.auth import client_ip
from shared.http.viewer import parse_viewer_address
from tests.support import http_event, invoke

SECRET = "s3cret-origin-verify-value-0001"
OLD_SECRET = "older-origin-verify-value-0000"
CLOUDFRONT_IPS = [f"130.176.{n}.1" for n in range(12)]  # each request may come from another edge server

router = api_router("/echo")


@router.get("")
async def echo(request: Request) -> dict:
    return {"ip": client_ip(request), "headers": sorted(request.headers.keys())}


@pytest.fixture
def edge_secret(monkeypatch):
    monkeypatch.setenv("EDGE_ORIGIN_SECRET", json.dumps({"current": SECRET, "previous": OLD_SECRET}))
    reset_all()
    yield
    monkeypatch.delenv("EDGE_ORIGIN_SECRET")
    reset_all()


def seen(headers: dict[str, str], source_ip: str = "130.176.0.1") -> dict:
    response = invoke(Mangum(create_app(router), lifespan="off"),
                      http_event("GET", "/api/v1/echo", headers=headers, source_ip=source_ip))
    assert response.status == 200, response
    return response.json


@pytest.mark.parametrize(("value", "address"), [
    ("198.51.100.10:46532", "198.51.100.10"),
    ("2001:0db8:85a3:0000:0000:8a2e:0370:7334:46532", "2001:db8:85a3::8a2e:370:7334"),
    ("2001:DB8::1:443", "2001:db8::1"),
    ("[2001:db8::2]:443", "2001:db8::2"),
    ("::ffff:198.51.100.7:5000", "198.51.100.7"),
    ("2001:db8::3", "2001:db8::3"),
    ("198.51.100.11", "198.51.100.11"),
    ("not-an-address:80", None),
    ("", None),
    ("198.51.100.300:80", None),
])
def test_viewer_addresses_parse_and_normalise(value, address):
    assert parse_viewer_address(value) == address


def test_without_the_secret_a_viewer_address_header_is_ignored(edge_secret):
    spoofed = {"cloudfront-viewer-address": "192.0.2.9:1234"}
    assert seen(spoofed, source_ip="203.0.113.5")["ip"] == "203.0.113.5"
    assert seen({**spoofed, "x-origin-verify": "a guess at the secret value"}, "203.0.113.5")["ip"] == "203.0.113.5"


def test_with_the_secret_the_viewer_address_is_the_client_and_the_secret_reaches_no_route(edge_secret):
    body = seen({"cloudfront-viewer-address": "192.0.2.9:1234", "x-origin-verify": SECRET})
    assert body["ip"] == "192.0.2.9"
    assert "x-origin-verify" not in body["headers"] and "cloudfront-viewer-address" in body["headers"]
    assert seen({"cloudfront-viewer-address": "2001:db8::7:443", "x-origin-verify": OLD_SECRET})["ip"] == "2001:db8::7"


def test_a_stage_without_an_edge_secret_trusts_no_viewer_address_and_still_drops_the_header():
    body = seen({"cloudfront-viewer-address": "192.0.2.9:1234", "x-origin-verify": SECRET}, source_ip="203.0.113.6")
    assert body["ip"] == "203.0.113.6" and "x-origin-verify" not in body["headers"]


def _login(viewer: str | None, source_ip: str, proof: str | None = SECRET) -> int:
    headers = {"cloudfront-viewer-address": viewer} if viewer else {}
    if proof:
        headers["x-origin-verify"] = proof
    event = http_event("POST", "/api/v1/auth/login", body={"username": "quester", "password": "wrong guess"},
                       headers=headers, source_ip=source_ip)
    return invoke(auth_handler, event).status


def test_behind_the_edge_the_login_limit_counts_per_viewer_not_per_cloudfront_server(edge_secret):
    statuses = [_login("198.51.100.10:40000", ip) for ip in CLOUDFRONT_IPS[:11]]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429  # one viewer, however many edge servers
    assert _login("198.51.100.20:40000", CLOUDFRONT_IPS[0]) == 401  # another viewer, same edge server


def test_spoofed_viewer_addresses_do_not_escape_the_login_limit(edge_secret):
    statuses = [_login(f"192.0.2.{n}:1000", "203.0.113.7", proof=None) for n in range(11)]
    assert statuses[10] == 429  # every request judged by its real source
    assert _login("192.0.2.99:1000", "203.0.113.7", proof="wrong") == 429


def test_ipv6_viewers_are_limited_by_their_normalised_address(edge_secret):
    spellings = ["2001:db8::42:1000", "2001:0db8:0000:0000:0000:0000:0000:0042:2000", "[2001:DB8::42]:3000"]
    statuses = [_login(spellings[n % 3], CLOUDFRONT_IPS[n]) for n in range(11)]
    assert statuses[10] == 429
    assert _login("2001:db8::43:1000", CLOUDFRONT_IPS[0]) == 401


def test_the_callers_address_is_read_in_one_place():
    """Every rate limit and device record asks ``shared.http.auth.client_ip``; nothing else reads the
    ASGI client or API Gateway's sourceIp (``shared.http.viewer`` is what may rewrite it)."""
    root = Path(__file__).resolve().parents[3]
    reads = re.compile(r"request\.client\b|scope\[\"client\"\]|scope\.get\(\"client\"\)|[\"']sourceIp[\"']"
                       r"|x-forwarded-for", re.IGNORECASE)
    allowed = {root / "shared" / "http" / "auth.py", root / "shared" / "http" / "viewer.py"}
    found = [f"{path.relative_to(root)}:{number}" for folder in ("shared", "functions")
             for path in sorted((root / folder).rglob("*.py")) if path not in allowed
             for number, line in enumerate(path.read_text().splitlines(), 1) if reads.search(line)]
    assert not found
    assert "request.client" in (root / "shared" / "http" / "auth.py").read_text()  # the pattern finds the real read


@pytest.fixture
def edge_required(edge_secret, monkeypatch):
    monkeypatch.setenv("EDGE_REQUIRED", "true")
    reset_all()
    yield
    monkeypatch.delenv("EDGE_REQUIRED")
    reset_all()


def answer(headers: dict[str, str]):
    return invoke(Mangum(create_app(router), lifespan="off"),
                  http_event("GET", "/api/v1/echo", headers=headers, source_ip="203.0.113.9"))


def test_where_the_edge_is_on_nothing_reaches_the_api_around_it(edge_required):
    """The execute-api URL answers anyone; with the edge on, only requests CloudFront sent (with the
    stage's origin secret, current or previous) are served: nothing goes around the WAF."""
    for headers in ({}, {"x-origin-verify": "guessed"}, {"cloudfront-viewer-address": "198.51.100.10:1"}):
        refused = answer(headers)
        assert refused.status == 403 and refused.json["error"]["code"] == "forbidden", (headers, refused)
    for proof in (SECRET, OLD_SECRET):
        served = answer({"x-origin-verify": proof, "cloudfront-viewer-address": "198.51.100.10:46532"})
        assert served.status == 200 and served.json["ip"] == "198.51.100.10"
    assert answer({"x-origin-verify": SECRET}).status == 200  # the proof alone: sourceIp stands


def test_an_unreadable_origin_secret_is_a_503_not_a_verdict(monkeypatch):
    monkeypatch.setenv("EDGE_REQUIRED", "true")
    monkeypatch.setenv("EDGE_ORIGIN_SECRET_NAME", "atribuo/test/edge-that-does-not-exist")
    reset_all()
    try:
        response = answer({"x-origin-verify": SECRET})
        assert response.status == 503 and response.json["error"]["code"] == "service_unavailable", response
    finally:
        monkeypatch.delenv("EDGE_REQUIRED")
        monkeypatch.delenv("EDGE_ORIGIN_SECRET_NAME")
        reset_all()


def test_without_the_edge_a_request_needs_no_proof():
    assert answer({}).status == 200
