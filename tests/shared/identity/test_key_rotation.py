"""Rotation without a redeploy: keys and credentials come from Secrets Manager (moto) and a warm
container picks up a rotated value — an unknown kid at once (rate-limited), the rest within the
secret cache's age."""

from __future__ import annotations

import json
import uuid

import jwt
import pytest

from shared.clients.registry import reset_all
from shared.core.errors import UnauthorizedError
from shared.core.settings import get_settings
from shared.identity import keys
from shared.identity.tokens import issue_access_token, verify_access_token
from tests.support.secrets import Clock


def _key_set(*pairs: dict) -> str:
    return json.dumps({"keys": list(pairs)})


def _resigned(token: str, key: dict) -> str:
    """The same claims signed by another key: a token another container minted after the rotation."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    claims = jwt.decode(token, options={"verify_signature": False})
    private = load_pem_private_key(key["private_pem"].encode(), password=None)
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": key["kid"]})


def test_an_unknown_kid_reloads_the_key_set_at_most_once_per_interval(secret, monkeypatch):
    name, put = secret
    old, new, newer = (json.loads(keys.generate_key_set((kid,)))["keys"][0] for kid in ("old", "new", "newer"))
    put(_key_set(old))
    monkeypatch.delenv("JWT_KEYS", raising=False)
    monkeypatch.setenv("JWT_KEYS_SECRET", name)
    reset_all()
    clock = Clock()
    monkeypatch.setattr(keys, "_clock", clock)
    token, _ = issue_access_token(uuid.uuid4())
    assert verify_access_token(token)  # the key set is loaded and cached

    put(_key_set(new, old))  # rotation: another container already signs with "new"
    assert verify_access_token(_resigned(token, new))  # unknown kid: re-read at once, accepted

    put(_key_set(newer, new, old))
    clock.now += 1
    with pytest.raises(UnauthorizedError):  # a second unknown kid within the interval: no re-read
        verify_access_token(_resigned(token, newer))
    clock.now += keys.RELOAD_MIN_INTERVAL_S
    assert verify_access_token(_resigned(token, newer))


def test_a_kid_nobody_configured_is_still_401_after_the_reload(secret, monkeypatch):
    name, put = secret
    current, stranger = (json.loads(keys.generate_key_set((kid,)))["keys"][0] for kid in ("current", "stranger"))
    put(_key_set(current))
    monkeypatch.delenv("JWT_KEYS", raising=False)
    monkeypatch.setenv("JWT_KEYS_SECRET", name)
    reset_all()
    token, _ = issue_access_token(uuid.uuid4())
    with pytest.raises(UnauthorizedError):
        verify_access_token(_resigned(token, stranger))


def test_the_signing_key_follows_the_secret_once_the_cache_has_aged(secret, monkeypatch):
    name, put = secret
    first, second = (json.loads(keys.generate_key_set((kid,)))["keys"][0] for kid in ("first", "second"))
    put(_key_set(first))
    monkeypatch.delenv("JWT_KEYS", raising=False)
    monkeypatch.setenv("JWT_KEYS_SECRET", name)
    reset_all()
    clock = Clock()
    monkeypatch.setattr(keys, "_clock", clock)
    assert keys.signing_key().kid == "first"
    put(_key_set(second, first))
    get_settings()  # the container's settings stay; only the secret changed
    clock.now += keys.KEY_SET_MAX_AGE_S
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # Powertools' own cache has aged too (it uses the wall clock)
    assert keys.signing_key().kid == "second"
    assert [k["kid"] for k in keys.jwks()["keys"]] == ["second", "first"]
