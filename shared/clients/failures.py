"""Which exceptions mean "a dependency failed" (a 503 the caller may retry) rather than a bug.

Shared by the HTTP edge and the plain handlers (WebSocket, scheduled), so both answer a database
or cache outage the same way. Modules are looked up in ``sys.modules`` rather than imported: a
function that never loaded psycopg cannot have a psycopg error, and must not pay for importing it.
"""

from __future__ import annotations

import sys

from shared.core.errors import AppError, ServiceUnavailableError, ValidationFailedError


def infrastructure_error(exc: BaseException) -> AppError | None:
    """Map a dependency failure (database, cache) to a 503; anything else stays unexpected."""
    psycopg = sys.modules.get("psycopg")
    httpx = sys.modules.get("httpx")
    upstash = sys.modules.get("upstash_redis.errors")
    if psycopg is not None and isinstance(exc, psycopg.DataError):  # a value Postgres cannot store
        return ValidationFailedError("a value in the request cannot be stored", code="invalid_value")
    if psycopg is not None and isinstance(exc, psycopg.OperationalError):
        return ServiceUnavailableError("the database is unavailable, try again shortly")
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return ServiceUnavailableError("the cache is unavailable, try again shortly")
    if upstash is not None and isinstance(exc, upstash.UpstashError):
        return ServiceUnavailableError("the cache refused the request, try again shortly")
    return None
