"""Every HTTP handler accepts the event shapes AWS and `sam local generate-event` produce.

For every route in template.yaml: a payload-2.0 event with mixed-case headers, cookies and a
base64-encoded JSON body (the `sam` style) and one with lower-case headers and a plain body (the
recorded-AWS style). Whatever the route thinks of the (empty) input, the answer must be a proper
response: no 5xx, and errors in the one JSON envelope.
"""

from __future__ import annotations

import importlib

import pytest

from local.template import http_routes
from tests.support import http_event, invoke

ROUTES = [r for r in http_routes() if r.path != "$default"]


@pytest.fixture(scope="module", autouse=True)
def aws_resources(stack, ws_gateway):
    """The WebSocket API, bucket, queues and verified SES senders `make dev` has: without them the mail,
    storage and ticket routes could only answer 503 (a dependency missing), not what is tested here."""
    from local import aws_resources as res

    res.ensure_resources(suffix="-shapes")


def _concrete(path: str) -> str:
    return path.replace("{id}", "00000000-0000-4000-8000-000000000000").replace("{", "").replace("}", "")


@pytest.mark.parametrize("style", ["aws", "sam"])
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route_key)
def test_handler_accepts_both_event_styles(route, style, make_user):
    _, headers = make_user("shapes")
    handler = importlib.import_module(route.module).handler
    body = {} if route.method in ("POST", "PATCH", "PUT") else None
    event = http_event(route.method, _concrete(route.path), route=route.path, body=body, headers=headers, style=style)
    event["cookies"] = ["theme=dark", "lang=en"]
    response = invoke(handler, event)
    assert response.status < 500, response
    if response.status >= 400:
        assert set(response.json["error"]) == {"code", "message", "details"}, response
