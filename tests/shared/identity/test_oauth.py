"""The protocol half of OAuth sign-in (``shared.identity.oauth``) on its own: providers as data, what a
provider's answer may put in our tables, and the ID-token rules the flow tests cannot reach."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from shared.clients.registry import reset_all
from shared.core.errors import NotFoundError, OAuthFailedError
from shared.identity import oauth


@pytest.fixture
def configured(monkeypatch):
    def configure(providers: dict | None = None, clients: dict | None = None) -> None:
        monkeypatch.setenv("OAUTH_PROVIDERS", json.dumps(providers or {}))
        monkeypatch.setenv("OAUTH_CLIENTS", json.dumps(clients or {}))
        reset_all()

    yield configure
    reset_all()


def test_a_provider_is_on_only_with_credentials_and_a_new_one_is_configuration(configured):
    github = {"protocol": "oauth2", "authorize_url": "https://github.com/login/oauth/authorize",
              "token_url": "https://github.com/login/oauth/access_token",
              "userinfo_url": "https://api.github.com/user", "scope": "read:user user:email", "profile": "discord"}
    configured({"github": github}, {"google": {"client_id": "g", "client_secret": "gs"},
                                    "github": {"client_id": "h", "client_secret": "hs"},
                                    "discord": {"client_id": "d"}})  # no secret: off
    enabled = oauth.providers()
    assert sorted(enabled) == ["github", "google"]
    assert enabled["google"].issuers == ("https://accounts.google.com", "accounts.google.com")
    assert enabled["github"].userinfo_url == "https://api.github.com/user" and enabled["github"].client_id == "h"
    with pytest.raises(NotFoundError):
        oauth.get_provider("discord")


def test_a_misconfigured_provider_is_off_rather_than_a_500(configured):
    configured({"apple": {"protocol": "oidc", "authorize_url": "https://appleid.apple.com/auth/authorize"},
                "github": {"protocol": "oauth2", "authorize_url": "a", "token_url": "t", "scope": "s",
                           "profile": "no-such-mapping", "userinfo_url": "u"}},
               {name: {"client_id": "x", "client_secret": "y"} for name in ("apple", "github", "google")})
    assert sorted(oauth.providers()) == ["google"]


def test_provider_answers_are_cut_to_what_the_tables_hold():
    profile = oauth.PROFILES["oidc"]("google", {
        "sub": "42", "email": "x" * 330 + "@example.com", "email_verified": True,
        "name": "Evil\x00Name" + "!" * 200, "preferred_username": "  Dee  "})
    assert profile.email is None and profile.email_verified is False  # no address: nothing verified
    assert "\x00" not in profile.display_name and len(profile.display_name) == 100
    assert profile.username == "Dee"
    stringly = oauth.PROFILES["oidc"]("google", {"sub": "42", "email": "a@example.com", "email_verified": "true"})
    assert stringly.email_verified is False  # only a JSON true counts
    with pytest.raises(OAuthFailedError):
        oauth.PROFILES["discord"]("discord", {"id": "", "email": "a@example.com"})
    with pytest.raises(OAuthFailedError):
        oauth.PROFILES["facebook"]("facebook", {"id": "x" * 256})


KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
PROVIDER = oauth.Provider(name="probe", protocol="oidc", authorize_url="https://idp.example/authorize",
                          token_url="https://idp.example/token", scope="openid email", profile="oidc",
                          client_id="client", client_secret="secret", issuers=("https://idp.example",),
                          jwks_uri="https://idp.example/jwks")


def _token(**claims) -> str:
    now = int(time.time())
    base = {"iss": "https://idp.example", "aud": "client", "sub": "42", "iat": now, "exp": now + 300, "nonce": "n"}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, {**base, **claims}, KEY)


@pytest.fixture
def known_keys():
    oauth._jwks[PROVIDER.jwks_uri] = (time.monotonic(), KeySet([KEY]).as_dict(private=False))
    yield
    oauth._jwks.clear()


def test_several_audiences_need_azp_to_be_us(known_keys):
    assert oauth.verify_id_token(PROVIDER, _token(), "n")["sub"] == "42"
    assert oauth.verify_id_token(PROVIDER, _token(aud=["client", "other"], azp="client"), "n")["sub"] == "42"
    for claims in ({"aud": ["client", "other"]}, {"aud": ["client", "other"], "azp": "other"}):
        with pytest.raises(OAuthFailedError):
            oauth.verify_id_token(PROVIDER, _token(**claims), "n")


@pytest.mark.parametrize("claims", [{"sub": None}, {"iat": None}, {"nonce": None}, {"exp": None},
                                    {"iat": "yesterday"}])
def test_a_missing_or_malformed_required_claim_is_refused(known_keys, claims):
    token = _token(**claims)
    payload = {k: v for k, v in jwt.decode(token, KEY).claims.items() if v is not None}
    with pytest.raises(OAuthFailedError):
        oauth.verify_id_token(PROVIDER, jwt.encode({"alg": "RS256", "kid": "k1"}, payload, KEY), "n")


@pytest.mark.parametrize("junk", ["", "not.a.jwt", "a.b", None, 42])
def test_junk_instead_of_an_id_token_is_refused(known_keys, junk):
    with pytest.raises(OAuthFailedError):
        oauth.verify_id_token(PROVIDER, junk, "n")


def test_a_rotated_key_is_fetched_when_a_token_names_it_at_most_once_a_minute():
    """Key rotation at the provider: a token with an unknown ``kid`` refetches the JWKS, but not more
    than once a minute (a stream of forged kids cannot make us hammer the provider)."""
    from local.servers import WsgiServerThread

    published = {"keys": [KEY.as_dict(private=False)]}
    fetches = []

    def jwks_app(environ, start_response):
        fetches.append(environ["PATH_INFO"])
        start_response("200 OK", [("content-type", "application/json")])
        return [json.dumps(published).encode()]

    server = WsgiServerThread(jwks_app).start()
    try:
        provider = oauth.Provider(**{**PROVIDER.__dict__, "jwks_uri": f"{server.url}/jwks"})
        assert oauth.verify_id_token(provider, _token(), "n")["sub"] == "42"
        new_key = RSAKey.generate_key(2048, parameters={"kid": "k2"})
        published["keys"].append(new_key.as_dict(private=False))
        rotated = jwt.encode({"alg": "RS256", "kid": "k2"}, jwt.decode(_token(), KEY).claims, new_key)
        with pytest.raises(OAuthFailedError):  # fetched a moment ago: not again yet
            oauth.verify_id_token(provider, rotated, "n")
        assert len(fetches) == 1
        fetched_at, keys = oauth._jwks[provider.jwks_uri]
        oauth._jwks[provider.jwks_uri] = (fetched_at - oauth.JWKS_REFETCH_AFTER_S - 1, keys)  # a minute later
        assert oauth.verify_id_token(provider, rotated, "n")["sub"] == "42"
        assert len(fetches) == 2
        assert oauth.verify_id_token(provider, _token(), "n")["sub"] == "42"  # the old key still works
        assert len(fetches) == 2
    finally:
        server.stop()
        oauth._jwks.clear()
