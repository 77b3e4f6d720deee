"""The local HTTP gateway on a free port, with a real HTTP client pointed at it (the e2e tests' API)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from local.http_gateway import HttpGateway
from local.invoker import Invoker
from local.servers import ServerThread


@contextmanager
def local_gateway() -> Iterator[str]:
    """Start the gateway (its own invoker, like a fresh set of Lambda containers), yield its URL, and
    stop both afterwards."""
    invoker = Invoker()
    server = ServerThread(HttpGateway(invoker)).start()
    try:
        yield server.url
    finally:
        server.stop()
        invoker.shutdown()


@contextmanager
def local_api(base_path: str = "", timeout: float = 10) -> Iterator[httpx.Client]:
    """``local_gateway`` with a real HTTP client whose base URL is the gateway plus ``base_path``."""
    with local_gateway() as url, httpx.Client(base_url=f"{url}{base_path}", timeout=timeout) as client:
        yield client
