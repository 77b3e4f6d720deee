"""The committed ``openapi.json`` is the code's contract, and a code generator can rely on it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from local.openapi import COMMITTED, ROOT, merged_openapi, render

CODE = re.compile(r"[a-z][a-z0-9_]*")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return merged_openapi()


def operations(spec: dict[str, Any]):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield f"{method.upper()} {path}", op


def test_the_committed_spec_is_the_one_the_code_generates(spec):
    assert COMMITTED.read_text() == render(spec), "openapi.json is stale: run `make openapi` and commit it"


def test_operation_ids_are_stable_dotted_names_and_unique(spec):
    ids = [op.get("operationId") for _, op in operations(spec)]
    assert all(isinstance(i, str) and re.fullmatch(r"[a-z]+\.[a-z][a-zA-Z]*", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert {"skills.list", "skills.create", "auth.login", "sync.get"} <= set(ids)


def test_every_authenticated_operation_documents_401(spec):
    secured = [(name, op) for name, op in operations(spec) if op.get("security")]
    assert len(secured) >= 16
    for name, op in secured:
        assert "401" in op["responses"], name


def test_etagged_reads_document_304_and_their_headers(spec):
    etagged = [(name, op) for name, op in operations(spec)
               if name.startswith("GET") and "ETag" in (op["responses"].get("200") or {}).get("headers", {})]
    assert {op["operationId"] for _, op in etagged} >= {"skills.list", "skills.get", "profile.get", "users.card"}
    for name, op in etagged:
        assert "ETag" in op["responses"]["304"]["headers"], name
        assert "content" not in op["responses"]["304"], name
        assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in op["parameters"]), name


def test_writes_document_their_conflicts_and_every_429_its_rate_limit_headers(spec):
    by_id = {op["operationId"]: op for _, op in operations(spec)}
    for op_id in ("skills.create", "skills.update", "auth.register", "auth.changePassword", "sync.get"):
        assert "409" in by_id[op_id]["responses"], op_id
    for name, op in operations(spec):
        assert set(op["responses"]["429"]["headers"]) == {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining",
                                                          "RateLimit-Reset"}, name
    assert "X-Sync-Version" in by_id["skills.delete"]["responses"]["204"]["headers"]


def test_optional_query_parameters_are_not_nullable(spec):
    for name, op in operations(spec):
        for parameter in op.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                assert {"type": "null"} not in parameter["schema"].get("anyOf", []), (name, parameter["name"])


def _properties(spec: dict[str, Any]):
    for schema_name, schema in spec["components"]["schemas"].items():
        for prop, value in (schema.get("properties") or {}).items():
            yield schema_name, prop, value


def _formats(value: dict[str, Any]) -> set[str]:
    options = value.get("anyOf", [value])
    return {option.get("format") for option in options if option.get("type") == "string"}


def test_ids_and_timestamps_carry_their_format(spec):
    checked = 0
    for schema_name, prop, value in _properties(spec):
        if prop in ("id", "user_id", "skill_id", "entity_id") and "string" in json.dumps(value):
            assert _formats(value) == {"uuid"}, (schema_name, prop, value)
            checked += 1
        if (prop.endswith("_at") and "string" in json.dumps(value)) or prop in ("since", "until"):
            assert _formats(value) == {"date-time"}, (schema_name, prop, value)
            checked += 1
    assert checked >= 10


# --- every error code the API can return is in the enum ---------------------------------------------
def _constants(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and CODE.fullmatch(n.value)}


def codes_in_source(path: Path) -> set[str]:
    """Codes a module can put in an error envelope, read from its syntax tree.

    ``Error(..., code="x")``; ``envelope(status, "x", ...)`` / the gateway's ``_error``; a ``code``
    class attribute (the typed errors); an assignment to ``code``/``codes``; and ``{"code": "x"}`` in a
    dict that is not a WebSocket frame (frames carry a ``type``).
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            found |= {c for kw in node.keywords if kw.arg == "code" for c in _constants(kw.value)}
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("envelope", "_error") and len(node.args) >= 2:
                found |= _constants(node.args[1])
        elif isinstance(node, ast.Assign):
            targets = [e for t in node.targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if names & {"code", "codes"}:
                found |= _constants(node.value) - {"GET", "POST"}
        elif isinstance(node, ast.Dict):
            keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
            if "code" in keys and "type" not in keys:
                found |= _constants(node.values[keys.index("code")])
    return found


def http_sources() -> list[Path]:
    """Everything that answers HTTP: shared code, the HTTP functions, the local gateway."""
    ws_only = {"ws_connect", "ws_disconnect", "ws_message", "ws_hello"}
    return [*sorted((ROOT / "shared").rglob("*.py")),
            *sorted(p for p in (ROOT / "functions").glob("*/app.py") if p.parent.name not in ws_only),
            ROOT / "local" / "http_gateway.py"]


def test_the_scanner_finds_codes_written_each_way(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('class E(AppError):\n    status_code, code = 418, "teapot"\n'
                      'raise E("x", code="brewing")\n'
                      'status, code, message = (405, "nope", "no way") if a else (404, "gone", "not here")\n'
                      'envelope(400, codes.get(s, "http_x"), "m")\n'
                      'frame = {"type": "error", "code": "ws_only"}\n'
                      'body = {"error": {"code": "literal", "message": "m"}}\n')
    assert codes_in_source(sample) == {"teapot", "brewing", "nope", "gone", "http_x", "literal"}


def test_the_error_code_enum_is_exactly_the_codes_the_api_can_return(spec):
    raised = set().union(*(codes_in_source(p) for p in http_sources()))
    enum = spec["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
    assert {"validation_error", "not_found", "version_ahead", "method_not_allowed"} <= raised
    assert sorted(raised) == sorted(enum)
