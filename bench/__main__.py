"""``make bench``: start the embedded stack, then print every benchmark's rows in one table.

Sections: cold starts (fresh processes, interleaved with the FastAPI floor app), warm per-request
cost of health, deployed package sizes, then every ``bench/bench_*.py`` module's ``run()``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _print(section: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {section}")
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}", flush=True)


def _auth_headers() -> list[tuple[str, str]]:
    from shared.clients import db
    from shared.identity.tokens import issue_access_token
    from shared.repositories.users import create_user

    user = create_user(db.get_conn(), username=f"bench_{int(time.time())}", email=f"b{time.time()}@bench.local",
                       password_hash="!unusable")  # noqa: S106 - cannot log in
    return [("authorization", f"Bearer {issue_access_token(user['id'])[0]}")]


def main() -> None:
    from local.stack import FAKE_AWS, LocalStack

    for key, value in FAKE_AWS.items():
        os.environ.setdefault(key, value)
    only = set(sys.argv[1:])
    from local.servers import service_dir

    folder = service_dir("atribuo-bench-")
    stack = LocalStack(folder, bridge_process=True).start()
    try:
        from shared.clients import db
        from shared.ops.migrate import migrate

        migrate(db.get_conn())
        for name, run in _sections().items():
            if not only or name in only:
                _print(name, run())
    finally:
        stack.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _sections() -> dict[str, Callable[[], list[tuple[str, str]]]]:
    sections: dict[str, Callable[[], list[tuple[str, str]]]] = {
        "cold start": lambda: importlib.import_module("bench.cold_start").measure(_auth_headers()),
        "warm": lambda: importlib.import_module("bench.warm").measure(),
        "package size": lambda: importlib.import_module("bench.package_size").measure(),
    }
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        sections[path.stem.removeprefix("bench_")] = importlib.import_module(f"bench.{path.stem}").run
    return sections

if __name__ == "__main__":
    main()
