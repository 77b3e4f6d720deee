"""Dependency checks for the health function: each answers "ok" or a short, safe error string."""

from __future__ import annotations

from collections.abc import Callable

from shared.clients import db
from shared.clients import redis as cache
from shared.core.observability import logger


def ping_database() -> None:
    """One round trip that proves the connection and the server answer."""
    db.run(lambda conn: conn.execute("SELECT 1").fetchone())


def ping_cache() -> None:
    """One REST call that proves the Upstash endpoint and its token."""
    if cache.get_redis().ping() != "PONG":
        raise RuntimeError("unexpected PING reply")


def _probe(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as exc:  # any failure is a finding, not a crash
        logger.warning("health check failed", extra={"dependency": name, "error": type(exc).__name__})
        return f"error: {name} unreachable ({type(exc).__name__})"
    return "ok"


def check_dependencies() -> dict[str, str]:
    """Probe Postgres and Redis; never raises."""
    return {"database": _probe("database", ping_database), "redis": _probe("redis", ping_cache)}
