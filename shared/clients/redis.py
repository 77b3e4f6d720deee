"""The Upstash Redis client (REST over HTTP), created lazily once per container.

HTTP rather than a TCP Redis connection because Lambda containers freeze between invocations and
a frozen TCP socket dies silently; a REST call has no connection state to lose. The client's own
httpx client has no timeout, so we give it one: a slow cache must not hold a Lambda until it dies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.clients import registry
from shared.core.deadline import clamp_httpx_request
from shared.core.settings import get_settings

if TYPE_CHECKING:
    from upstash_redis import Redis

_client: Redis | None = None


def get_redis() -> Redis:
    """The container's Upstash client."""
    global _client
    if _client is None:
        import httpx
        from upstash_redis import Redis

        settings = get_settings()
        url, token = settings.upstash_credentials()
        client = Redis(url=url, token=token, rest_retries=0, allow_telemetry=False)
        client._http._client.timeout = httpx.Timeout(settings.redis_timeout_s)
        client._http._client.event_hooks["request"].append(clamp_httpx_request)  # and the invocation's
        _client = client
    return _client


def reset() -> None:
    """Forget the client (tests; the local stack after its bridge moved)."""
    global _client
    if _client is not None:
        _client.close()
    _client = None


registry.register("redis", reset)
