"""Lazily created, cached boto3 clients for SQS and SES (one per service per container).

boto3 is imported on first use; ``reset()`` forgets them so tests and the local stack can point
boto3 at another endpoint (``AWS_ENDPOINT_URL`` locally, the real service in AWS).
"""

from __future__ import annotations

from typing import Any

from shared.clients import registry
from shared.core import tracing
from shared.core.deadline import botocore_config, guard_botocore

AWS_CONNECT_S, AWS_READ_S, AWS_ATTEMPTS = 2.0, 5.0, 3
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """The container's boto3 client for ``service`` ("sqs", "ses", "lambda": the hello invoke)."""
    if service not in _clients:
        import boto3

        tracing.patch_botocore()  # X-Ray subsegments for its calls, where tracing is on
        # SQS and SES are called by the planner and the worker (minutes of timeout), page by page:
        # three attempts of at most 2 + 5 s each, and never an attempt the invocation cannot finish.
        config = botocore_config(connect_s=AWS_CONNECT_S, read_s=AWS_READ_S, attempts=AWS_ATTEMPTS)
        _clients[service] = guard_botocore(boto3.client(service, config=config), AWS_CONNECT_S + AWS_READ_S)
    return _clients[service]


def reset() -> None:
    _clients.clear()


registry.register("aws", reset)
