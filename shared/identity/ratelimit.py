"""Rate limits on the real Upstash client (``upstash-ratelimit``), answered as 429 with standard headers.

Each limit is a token bucket: ``limit`` requests, refilled in full ``window_s`` after the bucket was
first drawn from. A bucket (unlike a window aligned to the clock) cannot let a burst through at a
window boundary, so "10 a minute" really is at most 10 in any minute after the first. Every check is
one Redis round trip (an EVAL).

Failure policy: when Redis is unreachable a check **fails closed** by default — it raises
``ServiceUnavailableError`` (503), because the limits in front of login and registration are what
stops password guessing, and an attacker who can slow the cache must not switch them off. A caller
whose limit only protects capacity (not credentials) may pass ``fail_open=True``: the request then
goes through unthrottled and a warning is logged. See docs/security.md.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.clients import redis as cache
from shared.core.errors import RateLimitedError, ServiceUnavailableError
from shared.core.observability import logger
from shared.core.settings import get_settings

if TYPE_CHECKING:
    from upstash_ratelimit.limiter import Response

KEY_PREFIX = "atribuo:rl"


@dataclass(frozen=True)
class Rule:
    """A named limit: ``limit`` requests per ``window_s`` seconds for each identifier."""

    name: str
    limit: int
    window_s: int = 60


def hashed(*parts: str) -> str:
    """An identifier that keeps e-mail addresses and IPs out of Redis keys in clear text."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _draw(rule: Rule, identifier: str) -> Response:
    from upstash_ratelimit import Ratelimit, TokenBucket

    bucket = TokenBucket(max_tokens=rule.limit, refill_rate=rule.limit, interval=rule.window_s, unit="s")
    limiter = Ratelimit(redis=cache.get_redis(), limiter=bucket, prefix=f"{KEY_PREFIX}:{rule.name}")
    return limiter.limit(identifier)


def _is_cache_failure(exc: Exception) -> bool:
    import httpx
    from upstash_redis.errors import UpstashError

    return isinstance(exc, (httpx.HTTPError, UpstashError))


def headers(response: Response) -> dict[str, str]:
    """``RateLimit-*`` (IETF draft: limit, remaining, seconds to reset) and ``Retry-After``."""
    reset = max(1, math.ceil(response.reset - time.time()))
    return {
        "Retry-After": str(reset),
        "RateLimit-Limit": str(response.limit),
        "RateLimit-Remaining": str(response.remaining),
        "RateLimit-Reset": str(reset),
    }


def allows(rule: Rule, identifier: str) -> bool:
    """Draw one request from ``identifier``'s bucket and say whether it was allowed, raising nothing
    for an empty bucket: for limits whose answer must stay invisible (the per-account sign-in limit).

    Fails closed like ``check``: ServiceUnavailableError (503) when Redis is unreachable.
    """
    try:
        return bool(_draw(rule, identifier).allowed)
    except Exception as exc:
        if not _is_cache_failure(exc):
            raise
        logger.warning("rate limit check failed", extra={"rule": rule.name, "error": type(exc).__name__})
        raise ServiceUnavailableError("rate limiting is unavailable, try again shortly") from exc


def check(rule: Rule, identifier: str, *, fail_open: bool = False) -> Response | None:
    """Draw one request from ``identifier``'s bucket; RateLimitedError (429) when it is empty.

    Returns the limiter's answer, or None when the cache was unreachable and ``fail_open`` is set.
    """
    try:
        response = _draw(rule, identifier)
    except Exception as exc:
        if not _is_cache_failure(exc):
            raise
        logger.warning("rate limit check failed", extra={"rule": rule.name, "error": type(exc).__name__,
                                                           "fail_open": fail_open})
        if fail_open:
            return None
        raise ServiceUnavailableError("rate limiting is unavailable, try again shortly") from exc
    if not response.allowed:
        raise RateLimitedError("too many requests; retry later", headers=headers(response),
                               details={"limit": rule.name})
    return response


def throttle_auth_ip(client_ip: str) -> None:
    """The broad per-IP limit on every credential-handling route (fails closed).

    Here rather than in ``accounts``: the HTTP dependency that draws it must not pull password
    hashing into every function's cold start.
    """
    check(Rule("auth-ip", get_settings().auth_ip_requests_per_min), hashed(client_ip))


def throttle_search_ip(client_ip: str) -> None:
    """The per-IP limit on people search (issue 17), which FAILS OPEN: it guards capacity, not
    credentials (the results are public profiles, each also at /users/{username}); a request is
    bounded anyway (a 50-character query, a 50-row page, the statement timeout, API Gateway's
    throttle), and a Redis outage must not take search down with it (a warning is logged)."""
    check(Rule("search-ip", get_settings().search_requests_per_min), hashed(client_ip), fail_open=True)


def throttle_rank_ip(client_ip: str) -> None:
    """The per-IP limit on the uncached rank reads (issue 17: my rank, around me, board pages past the
    top 100), which FAILS OPEN like search's: each request is bounded (an index range count per board,
    a page of 100) and the data is public or the caller's own; the limit guards capacity."""
    check(Rule("rank-ip", get_settings().rank_requests_per_min), hashed(client_ip), fail_open=True)


def throttle_data_transfer(user_id: object) -> None:
    """The per-user limit on exports and imports (``data_transfers_per_hour``), which FAILS OPEN: the
    data is the caller's own, and a cache outage must not block a person from taking it with them."""
    rule = Rule("data-transfer", get_settings().data_transfers_per_hour, 3600)
    check(rule, hashed(str(user_id)), fail_open=True)
