"""Schemathesis over the merged OpenAPI of every function, through the local gateway, on real services.

It grows by itself: every route a function adds to its FastAPI app (and to template.yaml) is in
the merged document. Two properties: no response is a 5xx, and every documented response matches
its schema and content type. Requests carry a real access token for a real user, so the
authenticated routes are exercised past the auth check.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local import aws_resources
from local.http_gateway import HttpGateway
from local.invoker import Invoker
from local.openapi import merged_openapi
from local.servers import ServerThread

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# Issue 12: every status a route answers is documented, and so is every header it declares required.
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance,
          response_headers_conformance]


@pytest.fixture(scope="module")
def gateway_url(stack, ws_gateway):
    # The AWS resources `make dev` creates (bucket, queues, verified SES senders): without them the
    # mail and upload routes could only answer 503, which the fuzzer rightly counts as a server error.
    aws_resources.ensure_resources(suffix="-fuzz")
    invoker = Invoker()
    server = ServerThread(HttpGateway(invoker)).start()
    yield server.url
    server.stop()
    invoker.shutdown()


# Built at collection: importing the function modules opens nothing (settings and clients are lazy).
schema = schemathesis.openapi.from_dict(merged_openapi())


@pytest.fixture
def auth_headers(make_user):
    """A real user and access token (tables are emptied between test items, so one per operation)."""
    return make_user("fuzzer")[1]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_server_errors_and_responses_match_the_schema(case, gateway_url, auth_headers):
    response = case.call(base_url=gateway_url, headers=auth_headers)
    case.validate_response(response, checks=CHECKS)
