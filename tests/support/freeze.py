"""Freeze a real dependency with SIGSTOP (its kernel still accepts and ACKs TCP: the worst kind of
outage, invisible to keepalives) and prove a request answers anyway, with no clock but a guard."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


def postgres_pids(server: Any) -> list[int]:
    """The postmaster of a pgserver instance and every backend and helper process it forked."""
    import psutil

    postmaster = psutil.Process(server.get_pid())
    return [postmaster.pid, *(child.pid for child in postmaster.children(recursive=True))]


@contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    """SIGSTOP every pid for the duration; SIGCONT always, whatever happened inside."""
    stopped: list[int] = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


def within(guard_s: float, work: Callable[[], T]) -> T:
    """``work()``'s result, or an AssertionError if it has not returned within ``guard_s`` seconds
    (it keeps running on its daemon thread; the guard is there so a hang fails instead of waiting)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        import asyncio

        asyncio.set_event_loop(loop := asyncio.new_event_loop())  # Mangum wants one, as in Lambda
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the caller
            outcome["error"] = exc
        finally:
            loop.close()

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(guard_s)
    if worker.is_alive():
        raise AssertionError(f"still waiting after {guard_s} s: the call hangs instead of failing")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
