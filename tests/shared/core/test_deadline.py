"""Every plain handler (WebSocket, scheduled, queue, migrate) runs under its invocation's deadline.

HTTP functions get it from the edge middleware; a plain handler only through
``shared.core.deadline.bounded``. Without it its outbound calls fall back to their own retry budgets,
which can outlast the function's timeout (a Lambda timeout has no error body and no clean-up).
"""

from __future__ import annotations

import importlib

import pytest

from local.template import function_module, functions, http_routes

HTTP_MODULES = {route.module for route in http_routes() if route.path != "$default"}
STDLIB_ONLY = {"NotFoundFunction"}  # the gateway's 404/405: no outbound call at all


def _wrapped_chain(handler):
    while handler is not None:
        yield handler
        handler = getattr(handler, "__wrapped__", None)


@pytest.mark.parametrize("name", sorted(n for n in functions() if function_module(n) not in HTTP_MODULES
                                        and n not in STDLIB_ONLY))
def test_every_plain_handler_is_bounded_by_its_invocation(name):
    handler = importlib.import_module(function_module(name)).handler
    assert any(getattr(h, "__bounded__", False) for h in _wrapped_chain(handler)), \
        f"{name}: decorate its handler with shared.core.deadline.bounded"
