"""Lazily created, cached boto3 clients for SQS and SES (one per service per container).

boto3 is imported on first use; ``reset()`` forgets them so tests and the local stack can point
boto3 at another endpoint (``AWS_ENDPOINT_URL`` locally, the real service in AWS).
"""

from __future__ import annotations

from typing import Any

from shared.clients import registry

_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """The container's boto3 client for ``service`` ("sqs", "ses")."""
    if service not in _clients:
        import boto3
        from botocore.config import Config

        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=10)
        _clients[service] = boto3.client(service, config=config)
    return _clients[service]


def reset() -> None:
    _clients.clear()


registry.register("aws", reset)
