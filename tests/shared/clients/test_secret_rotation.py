"""The Upstash client follows a rotated secret (moto's Secrets Manager) without a redeploy."""

from __future__ import annotations

import json

from shared.clients.registry import reset_all
from shared.core.settings import get_settings
from tests.support.secrets import Clock


def test_the_upstash_client_follows_a_rotated_secret(secret, monkeypatch):
    from aws_lambda_powertools.utilities import parameters

    from shared.clients import redis

    name, put = secret
    url, token = get_settings().upstash_credentials()
    put(json.dumps({"url": url, "token": token}))
    monkeypatch.delenv("UPSTASH_REDIS_REST_URL", raising=False)
    monkeypatch.delenv("UPSTASH_REDIS_REST_TOKEN", raising=False)
    monkeypatch.setenv("UPSTASH_SECRET", name)
    reset_all()
    clock = Clock()
    monkeypatch.setattr(redis, "_clock", clock)
    client = redis.get_redis()
    assert client.ping() == "PONG"
    put(json.dumps({"url": url, "token": "rotated-token"}))
    parameters.clear_caches()
    assert redis.get_redis() is client  # within the cache's age: the same client
    clock.now += redis.SECRET_MAX_AGE_S
    assert redis.get_redis() is not client  # then rebuilt with the new credentials
    assert redis._credentials == (url, "rotated-token")
