"""``python -m local.routes_json``: write ``functions/not_found/routes.json`` from ``template.yaml``."""

from __future__ import annotations

import json

from local.template import ROOT, http_routes

TARGET = ROOT / "functions" / "not_found" / "routes.json"


def route_table() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for route in http_routes():
        if route.path != "$default":
            table.setdefault(route.path, []).append(route.method)
    return {path: sorted(methods) for path, methods in sorted(table.items())}


def render() -> str:
    return json.dumps(route_table(), indent=2) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(ROOT)}")
