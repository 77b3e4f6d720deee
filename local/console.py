"""What ``make dev`` prints: one line per HTTP request, WebSocket connect/message/disconnect and
scheduler run, instead of every emulator's access log and a metrics blob per 4xx.

``ATRIBUO_VERBOSE=1`` (or ``make dev VERBOSE=1``) brings the noise back: moto's access log, the
functions' INFO logs and the EMF metric lines. Functions log under their own service name (the
folder name, which is their ``POWERTOOLS_SERVICE_NAME`` in ``template.yaml``).
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("atribuo.console")


def verbose() -> bool:
    return os.environ.get("ATRIBUO_VERBOSE", "").lower() not in ("", "0", "false", "no")


def setup() -> None:
    """Before the functions are imported: the console handler, and the noise off unless verbose."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    if verbose():
        return
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's one line per AWS call
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # the EMF blob per 4xx
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # function INFO logs; warnings stay


def service_of(module: str) -> str:
    """``functions.skills.app`` → ``skills``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "functions" else module


def http(method: str, path: str, status: int, ms: float, request_id: str, module: str | None) -> None:
    where = service_of(module) if module else "gateway"
    log.info("HTTP %-6s %s %d %.0fms id=%s %s", method, path, status, ms, request_id or "-", where)


def ws(event: str, connection_id: str, detail: str, ms: float | None = None) -> None:
    took = f" {ms:.0f}ms" if ms is not None else ""
    log.info("WS   %-10s %s %s%s", event, connection_id, detail, took)


def run(module: str, result: object, ms: float) -> None:
    log.info("RUN  %s %s %.0fms", service_of(module), result, ms)
