"""Cold start of every HTTP function against the FastAPI floor app, measured interleaved in one run.

Each function also runs a second way, as in Lambda with ``Tracing: Active`` (issue 11): LAMBDA_TASK_ROOT
and a sampled ``_X_AMZN_TRACE_ID`` set, X-Ray subsegments sent to a UDP socket standing in for the
daemon. ``traced`` is that run's median, and its ratio to the untraced one is tracing's cold-start cost
(the X-Ray SDK, with botocore, is imported on the first traced dependency call, inside the measured
request; its module count shows it was).
"""

from __future__ import annotations

import json
import os
import socket
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


FLOOR = "floor (FastAPI+Mangum hello)"
# What the Lambda Python runtime itself carries (/var/runtime, after the layers on sys.path): the X-Ray
# SDK imports botocore, which no layer ships.
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
UNTRACED = {"POWERTOOLS_TRACE_DISABLED": "true"}


def _traced_env(daemon: socket.socket) -> dict[str, str]:
    """Lambda's environment with active tracing (shared.core.tracing turns on), the daemon on ``daemon``."""
    return {"LAMBDA_TASK_ROOT": str(ROOT), "POWERTOOLS_TRACE_DISABLED": "false",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": "{}:{}".format(*daemon.getsockname())}


def _runtime_dir(folder: Path) -> Path:
    """A folder standing in for the runtime's own packages: links to this interpreter's copies."""
    import importlib.util

    runtime = folder / "runtime"
    runtime.mkdir()
    for name in RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (runtime / source.name).symlink_to(source)
    return runtime


def _run(module: str, event: Path, pythonpath: str, extra_env: dict[str, str] | None = None) -> dict:
    """One fresh interpreter that sees only what a Lambda sees: our code and its own layers (-S: no site)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": pythonpath}
    env |= extra_env or UNTRACED
    out = subprocess.run([sys.executable, "-S", "-m", "bench.cold_probe", module, str(event)],
                         capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(auth_headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    from bench.package_size import host_pythonpath, layer_dir

    by_function: dict[str, list[HttpRoute]] = {}
    for route in http_routes():
        by_function.setdefault(route.function, []).append(route)
    with tempfile.TemporaryDirectory() as tmp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))  # never read: the kernel drops what does not fit, as a busy daemon would
        traced_env = _traced_env(daemon)
        folder = Path(tmp)
        runtime = str(_runtime_dir(folder))
        floor_route = HttpRoute("GET", "/api/v1/hello", "Floor", "bench.floor_app")
        floor_path = os.pathsep.join([str(ROOT), str(layer_dir("DepsLayer", for_lambda=False)), runtime])
        targets = {FLOOR: ("bench.floor_app", _event_file(floor_route, [], folder), floor_path)}
        only = {name for name in os.environ.get("BENCH_COLD_ONLY", "").split(",") if name}
        for name, routes in sorted(by_function.items()):
            if only and name not in only:
                continue
            route = _probe_route(routes)
            targets[name] = (route.module, _event_file(route, auth_headers, folder),
                             os.pathsep.join([host_pythonpath(name), runtime]))
            if name == "UploadsFunction":  # issue 17: + Pillow, as a container whose first request is a confirm
                targets[f"{name} + Pillow (first request a confirm)"] = ("bench.uploads_pillow",
                                                                         targets[name][1], targets[name][2])
        samples: dict[str, list[dict]] = {name: [] for name in targets}
        traced: dict[str, list[dict]] = {name: [] for name in targets if name != FLOOR}
        for module, event, path in targets.values():  # warm-up: our own code's bytecode compiled once
            _run(module, event, path)
            _run(module, event, path, traced_env)
        for _ in range(RUNS):  # interleaved, so machine noise hits every target alike
            for name, (module, event, path) in targets.items():
                samples[name].append(_run(module, event, path))
                if name in traced:
                    traced[name].append(_run(module, event, path, traced_env))
    floor = statistics.median(s["total_ms"] for s in samples[FLOOR])
    rows = []
    for name, runs in samples.items():
        total = statistics.median(r["total_ms"] for r in runs)
        ratio = total / floor
        verdict = "" if name.startswith("floor") else ("  within target" if ratio <= TARGET else "  OVER TARGET")
        with_tracing = ""
        if name in traced:
            on = statistics.median(r["total_ms"] for r in traced[name])
            # each traced run follows its untraced twin: the median of those pairs' ratios is steadier
            # on a busy machine than the ratio of the two medians
            paired = statistics.median(t["total_ms"] / u["total_ms"] for u, t in zip(runs, traced[name], strict=True))
            with_tracing = (f"  traced {on:7.1f} ms x{paired:4.2f} of untraced (paired), x{on / floor:4.2f} of floor,"
                            f" {traced[name][0]['modules']} modules")
        rows.append((f"cold start {name}",
                     f"{total:7.1f} ms  x{ratio:4.2f} of floor{verdict}{with_tracing}  "
                     f"(import {statistics.median(r['import_ms'] for r in runs):.0f} ms, "
                     f"peak RSS {max(r['peak_rss_mb'] for r in runs):.0f} MB, "
                     f"{runs[0]['modules']} modules, status {runs[0]['status']})"))
    return rows
