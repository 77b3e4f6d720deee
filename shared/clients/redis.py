"""The Upstash Redis client (REST over HTTP), created lazily once per container.

HTTP rather than a TCP Redis connection because Lambda containers freeze between invocations and
a frozen TCP socket dies silently; a REST call has no connection state to lose. The client's own
httpx client has no timeout, so we give it one: a slow cache must not hold a Lambda until it dies.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from shared.clients import registry
from shared.core import tracing
from shared.core.deadline import clamp_httpx_request
from shared.core.settings import SECRET_MAX_AGE_S, get_settings

if TYPE_CHECKING:
    from upstash_redis import Redis

_client: Redis | None = None
_credentials: tuple[str, str] | None = None
_checked_at = 0.0
_clock = time.monotonic


def get_redis() -> Redis:
    """The container's Upstash client. Every SECRET_MAX_AGE_S the credentials are read again (from
    the secret cache): a rotated token or a moved endpoint reaches a warm container without a redeploy."""
    global _client, _credentials, _checked_at
    if _client is not None and _clock() - _checked_at >= SECRET_MAX_AGE_S:
        _checked_at = _clock()
        if get_settings().upstash_credentials() != _credentials:
            reset()
    if _client is None:
        import httpx
        from upstash_redis import Redis

        settings = get_settings()
        url, token = settings.upstash_credentials()
        client = Redis(url=url, token=token, rest_retries=0, allow_telemetry=False)
        client._http._client.timeout = httpx.Timeout(settings.redis_timeout_s)
        client._http._client.event_hooks["request"].append(clamp_httpx_request)  # and the invocation's
        tracing.traced_httpx(client._http._client)  # an X-Ray subsegment per REST call, where tracing is on
        _client, _credentials, _checked_at = client, (url, token), _clock()
    return _client


def reset() -> None:
    """Forget the client (tests; the local stack after its bridge moved)."""
    global _client, _credentials
    if _client is not None:
        _client.close()
    _client, _credentials = None, None


registry.register("redis", reset)
