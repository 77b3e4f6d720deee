"""Rate limits on the real Upstash client (through the local bridge to a real Redis)."""

from __future__ import annotations

import pytest

from shared.clients import redis as cache
from shared.clients.registry import reset_all
from shared.core.errors import RateLimitedError, ServiceUnavailableError
from shared.identity import ratelimit

RULE = ratelimit.Rule("test", limit=3, window_s=60)


def test_allows_the_limit_then_429_with_headers():
    remaining = [ratelimit.check(RULE, "someone").remaining for _ in range(3)]
    assert remaining == [2, 1, 0]
    with pytest.raises(RateLimitedError) as raised:
        ratelimit.check(RULE, "someone")
    headers = raised.value.headers
    assert headers["RateLimit-Limit"] == "3" and headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(headers["Retry-After"]) <= 60 and headers["RateLimit-Reset"] == headers["Retry-After"]


def test_identifiers_and_rules_are_independent():
    for _ in range(3):
        ratelimit.check(RULE, "a")
    assert ratelimit.check(RULE, "b").remaining == 2
    assert ratelimit.check(ratelimit.Rule("other", 3), "a").remaining == 2


def test_keys_do_not_hold_identifiers_in_clear():
    identifier = ratelimit.hashed("someone@example.com", "198.51.100.1")
    assert "example" not in identifier and "198" not in identifier
    ratelimit.check(RULE, identifier)
    keys = cache.get_redis().keys("*")
    assert keys and all("example.com" not in key for key in keys)


def test_unreachable_redis_fails_closed_unless_asked_to_fail_open(stack):
    stack.stop_bridge()
    try:
        reset_all()
        with pytest.raises(ServiceUnavailableError):
            ratelimit.check(RULE, "someone")
        assert ratelimit.check(RULE, "someone", fail_open=True) is None
    finally:
        stack.start_bridge()
        reset_all()
