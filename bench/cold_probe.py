"""Run in a fresh interpreter: import one handler module, serve one request, report time and memory.

``python -m bench.cold_probe <module> <event.json>`` prints one JSON line. The clock starts before
the handler's import (interpreter start-up is the same for every function and excluded).
"""

from __future__ import annotations

import time

_t0 = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402


def _peak_rss_mb() -> float:
    """VmHWM: this process's own peak (ru_maxrss survives exec on Linux, so it would be the parent's)."""
    for line in open("/proc/self/status"):  # noqa: SIM115
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    module_name, event_path = sys.argv[1], sys.argv[2]
    event = json.loads(open(event_path).read())  # noqa: SIM115
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    from local.lambda_context import LambdaContext

    result = module.handler(event, LambdaContext(function_name=module_name))
    done = time.perf_counter()
    print(json.dumps({
        "import_ms": (imported - _t0) * 1000,
        "total_ms": (done - _t0) * 1000,
        "status": result.get("statusCode") if isinstance(result, dict) else None,
        "peak_rss_mb": _peak_rss_mb(),
        "modules": len(sys.modules),
    }))


if __name__ == "__main__":
    main()
