"""The API Gateway management API client (``@connections``) that posts to WebSocket connections.

Created on first use and cached per container, like the other clients; None when the stage has no
WebSocket endpoint configured (``WEBSOCKET_MANAGEMENT_URL``), so callers can skip the fan-out. Its
connection pool is as large as the fan-out's thread pool, so concurrent posts never queue for a socket.
"""

from __future__ import annotations

from typing import Any

from shared.clients import registry
from shared.core import tracing
from shared.core.deadline import botocore_config, guard_botocore
from shared.core.settings import get_settings

FAN_OUT_THREADS = 32
POST_CONNECT_S, POST_READ_S = 1.0, 2.0
_client: Any = None


def management_client() -> Any:
    """The container's ``apigatewaymanagementapi`` client, or None when no endpoint is configured."""
    global _client
    if _client is None:
        endpoint = get_settings().websocket_management_url
        if not endpoint:
            return None
        import boto3

        tracing.patch_botocore()  # X-Ray subsegments for its calls, where tracing is on
        # Two attempts of at most 1 + 2 s per post (the fan-out posts in parallel), and never an attempt
        # the invocation cannot finish (the fan-out's threads run in the caller's context, deadline included).
        config = botocore_config(connect_s=POST_CONNECT_S, read_s=POST_READ_S, attempts=2,
                                 max_pool_connections=FAN_OUT_THREADS)
        _client = guard_botocore(boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=config),
                                 POST_CONNECT_S + POST_READ_S)
    return _client


def reset() -> None:
    """Forget the client (tests; the local stack after the WebSocket gateway moved)."""
    global _client
    _client = None


registry.register("websocket", reset)
