"""The invocation's deadline: every outbound call's own timeout, shortened to the time left.

Each client has its own limit (``DB_READ_TIMEOUT_S``, ``REDIS_TIMEOUT_S``, the AWS clients' read
timeouts); a request that makes several calls could still add them up past the function's timeout,
which in AWS ends in a Lambda timeout with no error body. ``start()`` (called by the API middleware
with Lambda's context) records when this invocation must have answered — the function's remaining
time minus a margin for writing the 503 envelope — and ``clamp()`` shortens a call's timeout to it.
Outside an invocation (scripts, tests calling repositories directly) nothing is shortened.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from typing import Any

MARGIN_S = 1.0  # time kept back to log and answer the 503 envelope
FLOOR_S = 0.05  # a call past the deadline still gets this long, so it fails as a timeout, not oddly

_deadline: ContextVar[float | None] = ContextVar("atribuo_deadline", default=None)


def start(context: Any, margin_s: float = MARGIN_S) -> Token:
    """Set the deadline from a Lambda context (``get_remaining_time_in_millis``); no context, none.
    Returns the token ``end()`` takes."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return _deadline.set(None if remaining is None else time.monotonic() + remaining() / 1000 - margin_s)


def end(token: Token) -> None:
    _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the deadline (never negative), or None outside an invocation."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def clamp(limit: float | None) -> float | None:
    """``limit`` (None: unbounded) shortened to the time left, and never below ``FLOOR_S``."""
    left = remaining()
    if left is None:
        return limit
    left = max(FLOOR_S, left)
    return left if limit is None else min(limit, left)


def clamp_httpx_request(request: Any) -> None:
    """An httpx request hook: the request's timeouts, each shortened to the time left."""
    timeouts = request.extensions.get("timeout")
    if timeouts and remaining() is not None:
        request.extensions["timeout"] = {key: clamp(value) for key, value in timeouts.items()}


def guard_botocore(client: Any, attempt_s: float) -> Any:
    """Refuse to start an AWS request attempt (the first or a retry) that could not finish before
    the deadline: ``attempt_s`` is its worst case (connect + read timeout). botocore has no
    per-call timeout, so this is how a retry is kept from running the function out of time. The
    refusal is a ``BotoCoreError``, which callers already turn into the 503 envelope."""

    def before_send(**_: Any) -> None:
        left = remaining()
        if left is not None and left < attempt_s:
            from botocore.exceptions import BotoCoreError

            class DeadlineExceededError(BotoCoreError):
                fmt = "no time left for another attempt before the function's deadline"

            raise DeadlineExceededError()

    client.meta.events.register("before-send", before_send)
    return client


def botocore_config(*, connect_s: float, read_s: float, attempts: int, **options: Any) -> Any:
    """A botocore Config with explicit limits: ``attempts`` tries in all, each at most
    ``connect_s + read_s`` seconds (the worst case the function's timeout is planned with)."""
    from botocore.config import Config

    return Config(connect_timeout=connect_s, read_timeout=read_s,
                  retries={"mode": "standard", "total_max_attempts": attempts}, **options)


def bounded(handler: Any) -> Any:
    """Decorate a plain Lambda handler (WebSocket, scheduled, queue, migrate): its outbound calls get
    the invocation's deadline, as HTTP requests get it from the edge middleware."""
    from functools import wraps

    @wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        token = start(context)
        try:
            return handler(event, context)
        finally:
            end(token)

    wrapper.__bounded__ = True  # type: ignore[attr-defined]  # tests check every plain handler has it
    return wrapper
