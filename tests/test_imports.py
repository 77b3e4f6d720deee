"""What importing a function costs: counted, not timed.

Importing a handler must open no connection (Lambda SnapStart snapshots the process after import;
a socket opened there would be dead after a restore) and must not import boto3 (200+ ms of cold
start that only the functions that really call AWS should pay, and then lazily).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from local.template import ROOT, http_routes, schedules

PROBE = """
import json, sys
import importlib
module = importlib.import_module(sys.argv[1])
from shared import cache, db
print(json.dumps({
    "boto3": "boto3" in sys.modules,
    "db_open": db._conn is not None,
    "cache_open": cache._client is not None,
    "modules": len(sys.modules),
}))
"""

# HTTP routes, the migrations custom resource and every scheduled function (digest planner, maintenance).
MODULES = sorted({route.module for route in http_routes()} | {"functions.migrate.app"} | set(schedules()))


@pytest.mark.parametrize("module", MODULES)
def test_importing_a_function_opens_nothing_and_skips_boto3(module):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # no DATABASE_URL, no secrets: import must not need them
    out = subprocess.run([sys.executable, "-c", PROBE, module], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["boto3"] is False, f"{module} imports boto3 at import time"
    assert report["db_open"] is False and report["cache_open"] is False, f"{module} opens a client at import"
