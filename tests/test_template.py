"""template.yaml: valid SAM, one function folder per function, every route served by a real handler."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from local.template import ROOT, functions, http_routes


def test_sam_validate_lint_is_clean():
    sam = shutil.which("sam", path=str(Path(sys.executable).parent)) or shutil.which("sam")
    assert sam, "aws-sam-cli is a dev dependency; `make install` provides it"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([sam, "validate", "--lint", "--template-file", str(ROOT / "template.yaml")],
                            capture_output=True, text=True, env=env, timeout=180, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


def test_every_function_has_its_own_code_uri_folder_with_a_handler():
    code_uris = [res["Properties"]["CodeUri"] for res in functions().values()]
    assert len(code_uris) == len(set(code_uris)), "functions must not share a CodeUri"
    for uri in code_uris:
        assert (ROOT / uri / "app.py").is_file(), uri
    folders = {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file()}
    assert folders == {Path(uri).name for uri in code_uris}, "a function folder without a template entry"


def test_routes_are_explicit_and_point_at_importable_handlers():
    routes = http_routes()
    assert all("{proxy+}" not in r.path for r in routes)
    assert sum(r.path == "$default" for r in routes) == 1
    for route in routes:
        module = importlib.import_module(route.module)
        assert callable(module.handler), route


def test_every_fastapi_route_is_in_the_template():
    """A route the app serves but the template lacks would be unreachable in AWS."""
    declared = {(r.method, r.path) for r in http_routes()}
    for module in {r.module for r in http_routes()}:
        app = getattr(importlib.import_module(module), "app", None)
        if app is None:
            continue
        for route in app.routes:
            for method in getattr(route, "methods", None) or ():
                if method != "HEAD" and route.path.startswith("/api/"):
                    assert (method, route.path) in declared, f"{method} {route.path} missing from template.yaml"
