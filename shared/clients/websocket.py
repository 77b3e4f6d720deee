"""The API Gateway management API client (``@connections``) that posts to WebSocket connections.

Created on first use and cached per container, like the other clients; None when the stage has no
WebSocket endpoint configured (``WEBSOCKET_MANAGEMENT_URL``), so callers can skip the fan-out. Its
connection pool is as large as the fan-out's thread pool, so concurrent posts never queue for a socket.
"""

from __future__ import annotations

from typing import Any

from shared.clients import registry
from shared.core.deadline import botocore_config
from shared.core.settings import get_settings

FAN_OUT_THREADS = 32
_client: Any = None


def management_client() -> Any:
    """The container's ``apigatewaymanagementapi`` client, or None when no endpoint is configured."""
    global _client
    if _client is None:
        endpoint = get_settings().websocket_management_url
        if not endpoint:
            return None
        import boto3

        # Two attempts of at most 1 + 2 s per post (the fan-out posts in parallel).
        config = botocore_config(connect_s=1.0, read_s=2.0, attempts=2, max_pool_connections=FAN_OUT_THREADS)
        _client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)
    return _client


def reset() -> None:
    """Forget the client (tests; the local stack after the WebSocket gateway moved)."""
    global _client
    _client = None


registry.register("websocket", reset)
