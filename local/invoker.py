"""Invoke function handlers the way Lambda does: one request at a time, with a fresh context.

All handlers run on one worker thread that owns its event loop (Mangum drives the ASGI app on the
thread's loop, so it cannot run inside uvicorn's). One thread also keeps the container-level
clients in ``shared`` from being used by two invocations at once, as in a real container.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from local.lambda_context import LambdaContext


def _own_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())


def _service_name(module: str) -> None:
    """Log as that function does in AWS: its ``POWERTOOLS_SERVICE_NAME`` (the folder name), not one
    process-wide name (all functions share this process's Powertools logger)."""
    from local.console import service_of
    from shared.core.observability import logger

    logger.append_keys(service=service_of(module))


class Invoker:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda", initializer=_own_loop)

    def submit(self, module: str, event: dict[str, Any], function_name: str = "local") -> Future:
        return self._pool.submit(self._invoke, module, event, function_name)

    async def invoke(self, module: str, event: dict[str, Any], function_name: str = "local") -> Any:
        return await asyncio.wrap_future(self.submit(module, event, function_name))

    def call(self, work: Callable[[], Any]) -> Future:
        """Run any container-side work (imports, migrations) on the Lambda thread."""
        return self._pool.submit(work)

    @staticmethod
    def _invoke(module: str, event: dict[str, Any], function_name: str) -> Any:
        from local.template import timeout_of

        handler = importlib.import_module(module).handler
        _service_name(module)
        return handler(event, LambdaContext(function_name=function_name, timeout_s=timeout_of(module)))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
