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

from local.template import ROOT, function_module, functions, http_routes

PROBE = """
import json, sys
import importlib
module = importlib.import_module(sys.argv[1])
fastapi = "fastapi" in sys.modules or "starlette" in sys.modules
from shared.clients import redis as cache
from shared.clients import db
print(json.dumps({
    "boto3": "boto3" in sys.modules,
    "fastapi": fastapi,
    "argon2": "argon2" in sys.modules,
    "lazy": sorted(m for m in ("zxcvbn", "ua_parser", "ua_parser_builtins") if m in sys.modules),
    "pillow": "PIL" in sys.modules,
    "db_open": db._conn is not None,
    "cache_open": cache._client is not None,
    "modules": len(sys.modules),
}))
"""

# Every function template.yaml deploys (HTTP, WebSocket, scheduled, queue, custom resource): a new
# function is covered the moment it is declared, with no list to keep by hand.
MODULES = sorted({function_module(name) for name in functions()})
# Only sign-up/sign-in hash passwords: argon2 anywhere else is cold start paid for nothing (it came
# in once through an HTTP dependency that imported the accounts module).
PASSWORD_HASHING = {"functions.auth.app"}
HTTP_MODULES = {route.module for route in http_routes() if route.path != "$default"}  # not_found is plain


@pytest.mark.parametrize("module", MODULES)
def test_importing_a_function_opens_nothing_and_skips_boto3(module):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # no DATABASE_URL, no secrets: import must not need them
    out = subprocess.run([sys.executable, "-c", PROBE, module], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["boto3"] is False, f"{module} imports boto3 at import time"
    assert report["db_open"] is False and report["cache_open"] is False, f"{module} opens a client at import"
    if module not in HTTP_MODULES:  # WebSocket, scheduled, queue, custom resource, $default
        assert report["fastapi"] is False, f"{module} is a plain handler but imports FastAPI/Starlette"
    if module not in PASSWORD_HASHING:
        assert report["argon2"] is False, f"{module} imports password hashing it never uses"
    # issue 15: the password estimator and the User-Agent parser load on first use, never at import
    assert report["lazy"] == [], f"{module} imports {report['lazy']} at import time"
    assert report["pillow"] is False, f"{module} imports Pillow at import time (only avatar confirm may, lazily)"


# Issue 17: Pillow (the MediaLayer) decodes avatars in the uploads function and nowhere else. Statically
# (lazy imports included): one module imports PIL, and only the uploads function's closure reaches it.
PILLOW_MODULES = {"shared.media.images"}
PILLOW_FUNCTIONS = {"UploadsFunction"}


def test_only_the_uploads_function_can_reach_pillow():
    import ast

    from tests.test_deploy_rehearsal import closure, handler_module

    importers = set()
    for path in [*ROOT.glob("shared/**/*.py"), *ROOT.glob("functions/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name == "PIL" or name.startswith("PIL.") for name in names):
                importers.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
    assert importers == PILLOW_MODULES
    reaching = {name for name in functions() if PILLOW_MODULES & closure(handler_module(name))}
    assert reaching == PILLOW_FUNCTIONS
