"""Cold start of every HTTP function against the FastAPI floor app, measured interleaved in one run."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from local.http_event import build_http_event
from local.template import HttpRoute, http_routes

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
# BENCH_COLD_ONLY=UploadsFunction,… measures only those functions (and the floor): one scenario, less CPU.
TARGET = 1.6


# Routes whose 200 needs a query string the probe does not send (GET /users needs ?q=): a 422 would
# measure less than a served request, so another route of the function is probed.
NEEDS_QUERY = {"/api/v1/users"}


def _probe_route(routes: list[HttpRoute]) -> HttpRoute:
    """The simplest route of a function: a GET without path parameters when there is one."""
    return sorted(routes, key=lambda r: (r.path in NEEDS_QUERY, r.method != "GET", "{" in r.path, len(r.path)))[0]


def _event_file(route: HttpRoute, headers: list[tuple[str, str]], folder: Path) -> Path:
    path = route.path.replace("{", "").replace("}", "") if route.path != "$default" else "/api/v1/nowhere"
    event = build_http_event(method=route.method if route.method != "ANY" else "GET", path=path,
                             route_key=route.route_key, headers=headers)
    target = folder / f"{route.function}.json"
    target.write_text(json.dumps(event))
    return target


def _run(module: str, event: Path, pythonpath: str) -> dict:
    """One fresh interpreter that sees only what a Lambda sees: our code and its own layers (-S: no site)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": pythonpath}
    out = subprocess.run([sys.executable, "-S", "-m", "bench.cold_probe", module, str(event)],
                         capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(auth_headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    from bench.package_size import host_pythonpath, layer_dir

    by_function: dict[str, list[HttpRoute]] = {}
    for route in http_routes():
        by_function.setdefault(route.function, []).append(route)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        floor_route = HttpRoute("GET", "/api/v1/hello", "Floor", "bench.floor_app")
        floor_path = os.pathsep.join([str(ROOT), str(layer_dir("DepsLayer", for_lambda=False))])
        targets = {"floor (FastAPI+Mangum hello)": ("bench.floor_app", _event_file(floor_route, [], folder),
                                                    floor_path)}
        only = {name for name in os.environ.get("BENCH_COLD_ONLY", "").split(",") if name}
        for name, routes in sorted(by_function.items()):
            if only and name not in only:
                continue
            route = _probe_route(routes)
            targets[name] = (route.module, _event_file(route, auth_headers, folder), host_pythonpath(name))
            if name == "UploadsFunction":  # issue 17: + Pillow, as a container whose first request is a confirm
                targets[f"{name} + Pillow (first request a confirm)"] = ("bench.uploads_pillow",
                                                                         targets[name][1], targets[name][2])
        samples: dict[str, list[dict]] = {name: [] for name in targets}
        for module, event, path in targets.values():  # warm-up: our own code's bytecode compiled once
            _run(module, event, path)
        for _ in range(RUNS):  # interleaved, so machine noise hits every target alike
            for name, (module, event, path) in targets.items():
                samples[name].append(_run(module, event, path))
    floor = statistics.median(s["total_ms"] for s in samples["floor (FastAPI+Mangum hello)"])
    rows = []
    for name, runs in samples.items():
        total = statistics.median(r["total_ms"] for r in runs)
        ratio = total / floor
        verdict = "" if name.startswith("floor") else ("  within target" if ratio <= TARGET else "  OVER TARGET")
        rows.append((f"cold start {name}",
                     f"{total:7.1f} ms  x{ratio:4.2f} of floor{verdict}  "
                     f"(import {statistics.median(r['import_ms'] for r in runs):.0f} ms, "
                     f"peak RSS {max(r['peak_rss_mb'] for r in runs):.0f} MB, "
                     f"{runs[0]['modules']} modules, status {runs[0]['status']})"))
    return rows
