"""Sign-up to sign-out over real HTTP through the local API Gateway (routes read from template.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.gateway import local_api

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough passphrase"


@pytest.fixture
def client(stack) -> Iterator[httpx.Client]:
    with local_api("/api/v1", timeout=10) as client:
        yield client


def test_register_login_refresh_me_logout_over_http(client):
    registered = client.post("/auth/register", json={"username": "wire", "email": "wire@example.com",
                                                     "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    signed_in = client.post("/auth/login", json={"username": "wire@example.com", "password": PASSWORD}).json()
    me = client.get("/auth/me", headers={"authorization": f"Bearer {signed_in['access_token']}"})
    assert me.json()["username"] == "wire"
    rotated = client.post("/auth/refresh", json={"refresh_token": signed_in["refresh_token"]})
    assert rotated.status_code == 200
    assert client.post("/auth/logout", json={"refresh_token": rotated.json()["refresh_token"]}).status_code == 204
    assert client.post("/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}).status_code == 401
    assert client.get("/.well-known/jwks.json").json()["keys"]


def test_spoofed_forwarded_for_does_not_escape_the_login_limit(client):
    client.post("/auth/register", json={"username": "wire", "email": "wire@example.com", "password": PASSWORD})
    statuses = [client.post("/auth/login", json={"username": "wire", "password": "wrong guess"},
                            headers={"x-forwarded-for": f"192.0.2.{n}"}).status_code for n in range(11)]
    assert statuses == [401] * 10 + [429]
