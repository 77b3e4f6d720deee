"""One OpenAPI document for all functions: each function's FastAPI app contributes its paths."""

from __future__ import annotations

import importlib
from typing import Any

from local.template import http_routes


def merged_openapi() -> dict[str, Any]:
    doc: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": "Atribuo API", "version": "1"},
                           "paths": {}, "components": {"schemas": {}, "securitySchemes": {}}}
    for module in sorted({r.module for r in http_routes() if r.path != "$default"}):
        app = getattr(importlib.import_module(module), "app", None)
        if app is None:
            continue
        spec = app.openapi()
        doc["info"]["version"] = spec["info"]["version"]
        for path, operations in spec.get("paths", {}).items():
            doc["paths"].setdefault(path, {}).update(operations)
        for kind, items in spec.get("components", {}).items():
            doc["components"].setdefault(kind, {}).update(items)
    return doc
