"""One OpenAPI document for all functions: each function's FastAPI app contributes its paths.

``merged_openapi()`` is the published contract: the functions' specs merged, then
``shared.http.openapi.finalize`` (rules every operation follows). ``python -m local.openapi``
(``make openapi``) writes it to ``openapi.json`` at the repository root, the file the TypeScript
SDK is generated from; ``tests/local/test_openapi_contract.py`` fails when the two differ.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from local.template import http_routes

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "openapi.json"
CONTRACT_VERSION = "1.0.0"  # the /api/v1 contract; deploys do not change it (AppVersion does not)


def merged_openapi() -> dict[str, Any]:
    from shared.http.openapi import finalize

    doc: dict[str, Any] = {"openapi": "3.1.0",
                           "info": {"title": "Atribuo API", "version": CONTRACT_VERSION},
                           "paths": {}, "components": {"schemas": {}, "securitySchemes": {}}}
    for module in sorted({r.module for r in http_routes() if r.path != "$default"}):
        app = getattr(importlib.import_module(module), "app", None)
        if app is None:
            continue
        spec = app.openapi()
        for path, operations in spec.get("paths", {}).items():
            doc["paths"].setdefault(path, {}).update(operations)
        for kind, items in spec.get("components", {}).items():
            doc["components"].setdefault(kind, {}).update(items)
    doc["paths"] = dict(sorted(doc["paths"].items()))
    for kind, items in doc["components"].items():
        doc["components"][kind] = dict(sorted(items.items()))
    return finalize(doc)


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    text = render(merged_openapi())
    if "--check" in sys.argv:
        if not COMMITTED.exists() or COMMITTED.read_text() != text:
            sys.exit("openapi.json is out of date: run `make openapi`")
        return
    COMMITTED.write_text(text)
    print(f"wrote {COMMITTED.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
