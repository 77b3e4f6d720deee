"""Warm per-request cost of health through the real handler vs the raw Postgres + Redis calls it makes."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

ROUNDS = 25
PER_ROUND = 200
TARGET_US = 150


def per_call_us(work: Callable[[], object], n: int = PER_ROUND) -> float:
    start = time.perf_counter()
    for _ in range(n):
        work()
    return (time.perf_counter() - start) / n * 1e6


def side_by_side(handler_call: Callable[[], object], direct_call: Callable[[], object]) -> tuple[float, float]:
    """Median per-call µs of each, measured in alternating rounds after a warm-up."""
    handler_call(), direct_call()
    handler_us, direct_us = [], []
    for _ in range(ROUNDS):
        handler_us.append(per_call_us(handler_call))
        direct_us.append(per_call_us(direct_call))
    return statistics.median(handler_us), statistics.median(direct_us)


def measure() -> list[tuple[str, str]]:
    from functions.health.app import handler
    from local.lambda_context import LambdaContext
    from shared import cache, db
    from tests.support import load_event

    event, context = load_event("event-get-health"), LambdaContext(function_name="health")

    def through_handler() -> object:
        return handler(event, context)

    def direct() -> object:
        db.get_conn().execute("SELECT 1").fetchone()
        return cache.get_redis().ping()

    handler_us, direct_us = side_by_side(through_handler, direct)
    overhead = handler_us - direct_us
    verdict = "within target" if overhead <= TARGET_US else "OVER TARGET"
    return [
        ("warm health through handler", f"{handler_us:8.0f} µs/request"),
        ("warm health raw SQL + Redis", f"{direct_us:8.0f} µs/request"),
        ("warm framework overhead", f"{overhead:8.0f} µs/request  x{handler_us / direct_us:.2f}  "
                                    f"(target ≤ {TARGET_US} µs: {verdict})"),
    ]
