"""Sign in with "google" over real HTTP end to end (issue 16): the local API Gateway in front of the auth
function, and the local OpenID provider the browser is sent to; the two talk to each other over HTTP too."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.gateway import local_api
from tests.support.oauth import REDIRECT_URI, authorize, set_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(stack) -> Iterator[httpx.Client]:
    with local_api("/api/v1", timeout=10) as client:
        yield client


def test_start_authorize_callback_then_the_same_identity_signs_in_again_over_http(client, stack):
    sub = set_user(stack, {"email": "wire@example.com", "email_verified": True, "preferred_username": "wire"})

    def sign_in() -> dict:
        started = client.get("/auth/oauth/google/start", params={"redirect_uri": REDIRECT_URI})
        assert started.status_code == 200 and started.headers["cache-control"] == "no-store", started.text
        params = authorize(started.json()["authorization_url"], sub)
        done = client.post("/auth/oauth/google/callback", json={"code": params["code"], "state": params["state"]})
        assert done.status_code == 200, done.text
        return done.json()

    first, second = sign_in(), sign_in()
    assert (first["outcome"], second["outcome"]) == ("created", "signed_in")
    assert first["user"]["id"] == second["user"]["id"]
    auth = {"authorization": f"Bearer {second['access_token']}"}
    assert client.get("/auth/me", headers=auth).json()["username"] == "wire"
    identities = client.get("/me/identities", headers=auth).json()["items"]
    assert [(i["provider"], i["email"]) for i in identities] == [("google", "wire@example.com")]
    assert client.delete(f"/me/identities/{identities[0]['id']}", headers=auth).status_code == 409
