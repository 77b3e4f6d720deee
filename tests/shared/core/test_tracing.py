"""X-Ray tracing with tracing ON (issue 11): a real handler, in a fresh interpreter that looks like Lambda
with ``Tracing: Active`` (LAMBDA_TASK_ROOT, a sampled ``_X_AMZN_TRACE_ID``), sends its subsegments to a
fake X-Ray daemon — a UDP socket this test reads — through the X-Ray SDK's own emitter. Everywhere
else in the suite tracing is off (no LAMBDA_TASK_ROOT; the local stack sets POWERTOOLS_TRACE_DISABLED).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime

from local.servers import free_port
from local.template import ROOT
from shared.clients import db
from shared.repositories import connections
from tests.support.events import http_event

TRACE_ROOT = "1-5759e988-bd862e3fe1be46a994272793"
PROBE = """
import json, sys
from functions.skills.app import handler
from local.lambda_context import LambdaContext
sdk_at_import = "aws_xray_sdk" in sys.modules
result = handler(json.loads(sys.argv[1]), LambdaContext(function_name="skills"))
print(json.dumps({"status": result["statusCode"], "sdk_at_import": sdk_at_import}))
"""


def _segments(daemon: socket.socket) -> list[dict]:
    """Every document the fake daemon received (each datagram: a JSON header line, then the document)."""
    daemon.settimeout(2)
    found = []
    try:
        while True:
            header, _, body = daemon.recv(65536).decode().partition("\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            found.append(json.loads(body))
    except TimeoutError:
        return found


def test_a_traced_write_has_postgres_upstash_and_aws_subsegments(make_user, monkeypatch):
    user, headers = make_user("alice")
    db.run(lambda conn: connections.register(conn, connection_id="device-1", user_id=user["id"],
                                             connected_at=datetime.now(UTC), max_lifetime_s=7200))
    event = http_event("POST", "/api/v1/skills", headers=headers, body={"name": "Go", "category": "programming",
                                                                        "level": 2})
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LAMBDA_TASK_ROOT": str(ROOT),
               "POWERTOOLS_TRACE_DISABLED": "false",
               "POWERTOOLS_SERVICE_NAME": "skills", "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
               "_X_AMZN_TRACE_ID": f"Root={TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1",
               # a management API that refuses connections: the post fails; its call is on the trace
               "WEBSOCKET_MANAGEMENT_URL": f"http://127.0.0.1:{free_port()}"}
        out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(event)], capture_output=True, text=True,
                             env=env, cwd=ROOT, check=True)
        segments = _segments(daemon)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"status": 201, "sdk_at_import": False}  # served, and the SDK was not an import cost
    assert segments and {s["trace_id"] for s in segments} == {TRACE_ROOT}
    assert all(s["type"] == "subsegment" and s["parent_id"] == "53995c3f42cd8ad8" for s in segments), segments
    postgres = [s for s in segments if s["name"] == "postgres"]
    assert postgres and postgres[0]["sql"]["database_type"] == "PostgreSQL"
    upstash_host = os.environ["UPSTASH_REDIS_REST_URL"].split("//")[1].split(":")[0].split("/")[0]
    cache = [s for s in segments if s["name"] == upstash_host]
    assert cache and cache[0]["http"]["request"]["method"] == "POST", segments
    # two pushes: the skill and the achievement it earned (first_skill)
    posts = [s for s in segments if s.get("aws", {}).get("operation") == "PostToConnection"]
    assert len(posts) == 2, segments
    assert all(p["namespace"] == "aws" and p["end_time"] >= p["start_time"] for p in posts)
