"""The published contract: what a route declares beside its code, and rules every operation follows.

``documented("skills.update", 409, etag=True, sync=True)`` gives a route decorator its keywords: a
stable operation id for generated clients (``skills.update`` → ``skillsUpdate()``), the error statuses
the route returns beyond the ones every route can (400/404/413/415/422/429/503, from
``api_router``), and the headers of its success response: ``etag`` for ``ETag``/``Cache-Control``,
``conditional`` for a read that also answers ``If-None-Match`` with ``304``, ``sync`` for
``X-Sync-Version`` (per-user data).

``finalize(spec)`` then applies what holds for every operation, so no route can forget it: ``401`` on
each authenticated operation, the ``Retry-After``/``RateLimit-*`` headers on every ``429``, and
optional query parameters that are optional, not nullable (FastAPI writes ``anyOf [T, null]`` for
``T | None = None``; a client cannot send a null in a query string), ``Idempotency-Key`` on every
authenticated POST/PATCH/DELETE (``shared.http.idempotency``: a 409 while the first request still
runs, ``Idempotent-Replayed`` on a replayed answer), and response-only schemas whose
every property is required: the server always sends every field (null when empty), so a generated
type says ``x: T | null``, not ``x?: T | null``, and a discriminator like ``mode`` narrows.
"""

from __future__ import annotations

import copy
from typing import Any

from shared.models.errors import ErrorEnvelope

ERROR_TEXT = {
    404: "Not found",
    401: "Missing, expired or invalid access token (or, for login/refresh, bad credentials)",
    403: "Refused for this caller (details say why)",
    409: "Conflicts with the current state (details say with what)",
    412: "If-Match / If-Unmodified-Since failed: details.current is the stored state, details.conflict the "
         "recorded conflict",
}
RATE_LIMIT_HEADERS = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}},
    "RateLimit-Limit": {"description": "Requests allowed in the window", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in the window", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the window resets", "schema": {"type": "integer"}},
}
ETAG = {"description": "Strong validator of this body: send it back as If-None-Match", "schema": {"type": "string"}}
CACHE_CONTROL = {"description": "Caching rules for this body", "schema": {"type": "string"}}
SYNC_VERSION = {"description": "The caller's sync version (GET /sync?since= continues from it)",
                "schema": {"type": "integer", "minimum": 0}}
IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "description": "Makes a retry safe: the first answer is stored and replayed (with "
                                  "Idempotent-Replayed: true); the same key on another request is a 422",
                   "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,99}$"}}
IDEMPOTENT_REPLAYED = {"description": "true when this is the stored answer to an earlier request with the same "
                                      "Idempotency-Key", "schema": {"type": "string", "enum": ["true"]}}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                 "description": "An ETag this client holds: a 304 without a body answers when it is current",
                 "schema": {"type": "string"}}


def documented(operation_id: str, *errors: int, etag: bool = False, conditional: bool = False,
               sync: bool = False, status: int = 200) -> dict[str, Any]:
    """Keywords for ``@router.<method>(...)``: operation id, extra error statuses, success headers."""
    responses: dict[int | str, dict[str, Any]] = {
        status_code: {"model": ErrorEnvelope, "description": ERROR_TEXT[status_code]} for status_code in errors}
    headers: dict[str, Any] = {}
    if etag or conditional:
        headers.update({"ETag": ETAG, "Cache-Control": CACHE_CONTROL})
    if sync:
        headers["X-Sync-Version"] = SYNC_VERSION
    if headers:
        responses[status] = {"headers": headers}
    if sync:  # a per-user 404/409/412 still says which version it was judged against
        for status_code in (404, *(c for c in errors if c in (409, 412))):
            extra_headers = {"X-Sync-Version": SYNC_VERSION}
            if status_code == 412 and (etag or conditional):  # the stored state's validator
                extra_headers["ETag"] = ETAG
            responses[status_code] = {"model": ErrorEnvelope, "description": ERROR_TEXT[status_code],
                                      "headers": extra_headers}
    extra: dict[str, Any] = {}
    if conditional:
        responses[304] = {"description": "Not modified: the If-None-Match tag is the current one",
                          "headers": dict(headers)}
        extra["parameters"] = [IF_NONE_MATCH]
    keywords: dict[str, Any] = {"operation_id": operation_id, "responses": responses}
    if extra:
        keywords["openapi_extra"] = extra
    return keywords


def merged(keywords: dict[str, Any], responses: dict[int | str, dict[str, Any]]) -> dict[str, Any]:
    """``documented(...)`` plus more response details (a media type, a description) per status."""
    combined = dict(keywords.get("responses", {}))
    for status, extra in responses.items():
        combined[status] = {**combined.get(status, {}), **extra}
    return {**keywords, "responses": combined}


def _unnull(schema: dict[str, Any]) -> dict[str, Any]:
    options = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
    if "anyOf" not in schema or len(options) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**options[0], **rest}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _request_schemas(spec: dict[str, Any]) -> set[str]:
    """Component schemas a request can carry (bodies, parameters), with everything they refer to."""
    schemas = spec.get("components", {}).get("schemas", {})
    todo = set()
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            todo |= _refs(operation.get("requestBody")) | _refs(operation.get("parameters"))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo |= _refs(schemas.get(name))
    return seen


def _idempotent(operation: dict[str, Any], responses: dict[str, Any], envelope: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name", "").lower() == "idempotency-key" for p in parameters):
        parameters.append(IDEMPOTENCY_KEY)
    conflict = responses.setdefault("409", {"description": ERROR_TEXT[409],
                                            "content": {"application/json": {"schema": envelope}}})
    conflict.setdefault("headers", {})["Retry-After"] = RATE_LIMIT_HEADERS["Retry-After"]
    for status, response in responses.items():
        if status.startswith("2"):
            response.setdefault("headers", {})["Idempotent-Replayed"] = IDEMPOTENT_REPLAYED


def finalize(spec: dict[str, Any]) -> dict[str, Any]:
    """The rules every operation follows, applied to a generated spec (a new dict)."""
    spec = copy.deepcopy(spec)
    inputs = _request_schemas(spec)
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if name not in inputs and schema.get("properties"):
            schema["required"] = list(schema["properties"])
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for operations in spec.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if operation.get("security") and "401" not in responses:
                responses["401"] = {"description": ERROR_TEXT[401],
                                    "content": {"application/json": {"schema": envelope}}}
            if "429" in responses:
                responses["429"].setdefault("headers", {}).update(RATE_LIMIT_HEADERS)
            if operation.get("security") and method in ("post", "patch", "delete"):
                _idempotent(operation, responses, envelope)
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("query", "header") and not parameter.get("required"):
                    parameter["schema"] = _unnull(parameter.get("schema", {}))
            operation["responses"] = dict(sorted(responses.items()))
    return spec
