"""X-Ray traces through Powertools' Tracer: a subsegment per Postgres unit of work (``shared.clients.db``),
per Upstash REST call (``shared.clients.redis``) and per AWS API call (botocore, patched), under the
segment Lambda opens for each invocation (``Tracing: Active`` in template.yaml).

Tracing is on where Powertools says it is: inside Lambda, not under ``sam local``, and unless
``POWERTOOLS_TRACE_DISABLED`` is true — so it is off in ``make dev``, the tests and every script, and then
each helper here is a no-op that imports nothing. Where it is on, the Tracer (whose construction imports
the X-Ray SDK) is built on first use, not at import: a function pays for the SDK only when it first
reaches a dependency, and none of its import-time cold start (``make bench`` measures both ways).
Nothing is auto-patched (Powertools' default would import every library the SDK knows, boto3 included):
botocore is patched just before a boto3 client is made, which imports botocore anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_tracer: Any = None


def enabled() -> bool:
    """Powertools' rule (``Tracer._is_tracer_disabled``): Lambda, not sam local, not disabled by env."""
    from aws_lambda_powertools import Tracer

    return not Tracer._is_tracer_disabled()


def tracer() -> Any:
    """The container's Tracer (built once, only called where tracing is on)."""
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(auto_patch=False)
    return _tracer


@contextmanager
def subsegment(name: str, **metadata: Any) -> Iterator[None]:
    """A ``remote`` subsegment around a dependency call (an exception is recorded on it, then raised).
    ``metadata`` goes into the subsegment's ``sql`` block (database calls)."""
    if not enabled():
        yield
        return
    with tracer().provider.in_subsegment(name, namespace="remote") as segment:
        if metadata and segment is not None:
            segment.set_sql(metadata)
        yield


def patch_botocore() -> None:
    """Trace every AWS API call from now on (idempotent; call before making a boto3 client)."""
    if enabled():
        tracer().patch(["botocore"])


def traced_httpx(client: Any) -> Any:
    """``client`` (an ``httpx.Client``) with a subsegment per request: the X-Ray SDK's own transport
    wrapper (host as name, method, URL and status as HTTP metadata)."""
    if enabled():
        tracer()
        from aws_xray_sdk.ext.httpx.patch import SyncInstrumentedTransport

        client._transport = SyncInstrumentedTransport(client._transport)
    return client
