"""The local OpenID provider the session starts (``local.oidc_provider``), spoken to as a client would:
discovery, the authorize form, PKCE at the token endpoint, and the Discord/Facebook-shaped user endpoints."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import urlencode

import httpx

from tests.support.oauth import REDIRECT_URI, authorize, provider_url, set_user


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _code(stack, sub: str, verifier: str, scope: str = "openid email profile") -> str:
    query = {"response_type": "code", "client_id": "probe", "redirect_uri": REDIRECT_URI, "scope": scope,
             "state": "s", "nonce": "n", "code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    return authorize(f"{provider_url(stack)}/oauth2/authorize?{urlencode(query)}", sub)["code"]


def _token(stack, code: str, verifier: str) -> httpx.Response:
    return httpx.post(f"{provider_url(stack)}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
        "client_id": "probe", "client_secret": "probe-secret"})


def test_it_listens_on_loopback_and_its_issuer_is_its_own_url(stack):
    base = provider_url(stack)
    assert base.startswith("http://127.0.0.1:")
    config = httpx.get(f"{base}/.well-known/openid-configuration").json()
    assert config["issuer"] == base and config["jwks_uri"] == f"{base}/jwks"
    assert "RS256" in config["id_token_signing_alg_values_supported"]


def test_the_token_endpoint_refuses_a_wrong_pkce_verifier_and_accepts_the_right_one(stack):
    sub = set_user(stack, {"email": "p@example.com"})
    verifier = secrets.token_urlsafe(48)
    refused = _token(stack, _code(stack, sub, verifier), "another-verifier-" + secrets.token_urlsafe(32))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    accepted = _token(stack, _code(stack, sub, verifier), verifier)
    assert accepted.status_code == 200, accepted.text
    claims = json.loads(base64.urlsafe_b64decode(accepted.json()["id_token"].split(".")[1] + "=="))
    assert claims["sub"] == sub and claims["nonce"] == "n" and claims["email"] == "p@example.com"


def test_discord_and_facebook_shaped_user_endpoints_answer_for_the_token_holder(stack):
    sub = set_user(stack, {"email": "d@example.com", "email_verified": True, "preferred_username": "dee",
                           "name": "Dee"})
    verifier = secrets.token_urlsafe(48)
    token = _token(stack, _code(stack, sub, verifier, scope="identify email"), verifier).json()["access_token"]
    auth = {"authorization": f"Bearer {token}"}
    discord = httpx.get(f"{provider_url(stack)}/discord/users/@me", headers=auth).json()
    assert discord == {"id": sub, "username": "dee", "global_name": "Dee", "email": "d@example.com",
                       "verified": True, "avatar": None}
    facebook = httpx.get(f"{provider_url(stack)}/facebook/me", headers=auth).json()
    assert facebook == {"id": sub, "name": "Dee", "email": "d@example.com"}
    assert httpx.get(f"{provider_url(stack)}/discord/users/@me").status_code == 401


def test_the_demo_player_is_one_click_on_the_authorize_form(stack):
    verifier = secrets.token_urlsafe(48)
    query = {"response_type": "code", "client_id": "probe", "redirect_uri": REDIRECT_URI, "scope": "openid email",
             "state": "s", "nonce": "n", "code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    url = f"{provider_url(stack)}/oauth2/authorize?{urlencode(query)}"
    assert 'value="demo-player"' in httpx.get(url).text
    token = _token(stack, authorize(url, "demo-player")["code"], verifier).json()
    claims = json.loads(base64.urlsafe_b64decode(token["id_token"].split(".")[1] + "=="))
    assert claims["email"] == "demo-player@example.com" and claims["email_verified"] is True
