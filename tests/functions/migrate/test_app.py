"""The migrate function as a CloudFormation custom resource: it reports to the ResponseURL."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from functions.migrate.app import handler
from tests.support import invoke as _unused  # noqa: F401 - keeps the helper import path checked
from tests.support import load_event


@pytest.fixture
def cloudformation():
    """A stand-in for CloudFormation's pre-signed S3 URL that records what the function PUTs."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/response", received
    server.shutdown()


def test_create_reports_success_and_is_idempotent(cloudformation):
    url, received = cloudformation
    event = load_event("event-migrate-custom-resource") | {"ResponseURL": url}
    result = handler(event, _context())
    assert result == {"applied": []}  # the session already migrated: nothing twice
    assert received[-1]["Status"] == "SUCCESS"
    assert received[-1]["LogicalResourceId"] == "Migrations"


def test_delete_never_touches_the_schema(cloudformation):
    from shared.clients import db

    url, received = cloudformation
    event = load_event("event-migrate-custom-resource") | {"ResponseURL": url, "RequestType": "Delete"}
    handler(event, _context())
    assert received[-1]["Status"] == "SUCCESS"
    assert db.get_conn().execute("SELECT count(*) AS n FROM schema_migrations").fetchone()["n"] >= 1


def test_failure_is_reported_as_failed_without_internals(cloudformation, monkeypatch):
    url, received = cloudformation
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret-pw@127.0.0.1:1/none")
    from shared.clients.registry import reset_all

    reset_all()
    event = load_event("event-migrate-custom-resource") | {"ResponseURL": url}
    handler(event, _context())
    assert received[-1]["Status"] == "FAILED"
    assert "secret-pw" not in json.dumps(received[-1])


def _context():
    from local.lambda_context import LambdaContext

    return LambdaContext(function_name="migrate")
