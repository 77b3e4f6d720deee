"""Helpers for the skills and profiles tests: call a handler like API Gateway would, read the DB."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support import Response, http_event, invoke, load_event

PARAM = re.compile(r"/(?:skills|users)/([^/]+)")


def route_of(path: str) -> str:
    """The template route for a concrete path (``/api/v1/skills/<id>`` → ``/api/v1/skills/{skill_id}``)."""
    route = re.sub(r"/skills/[^/]+", "/skills/{skill_id}", path)
    return re.sub(r"/users/[^/]+", "/users/{username}", route)


def call(handler: Any, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None,
         query: dict[str, Any] | None = None) -> Response:
    query = {k: str(v) for k, v in (query or {}).items()} or None
    return invoke(handler, http_event(method, path, route=route_of(path), body=body, headers=headers, query=query))


def from_event(handler: Any, name: str, headers: dict[str, str] | None = None, body: Any = None,
               path: str | None = None) -> Response:
    """Invoke ``handler`` with ``events/<name>.json``, re-pointed at ``path`` / given real headers and body."""
    event = load_event(name)
    event["headers"].update(headers or {})
    if path is not None:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["content-length"] = str(len(event["body"]))
    return invoke(handler, event)


def db_one(sql: str, *params: Any) -> Any:
    from shared.clients import db

    return db.get_conn().execute(sql, params).fetchone()


def db_all(sql: str, *params: Any) -> list[Any]:
    from shared.clients import db

    return db.get_conn().execute(sql, params).fetchall()


def sync_version(user_id: Any) -> int:
    return db_one("SELECT sync_version FROM users WHERE id = %s", user_id)["sync_version"]


def snapshot(user_id: Any) -> dict[str, Any]:
    """Everything a write could change for ``user_id``: to prove that a refused write changed nothing."""
    return {
        "skills": db_all("SELECT * FROM skills WHERE owner_id = %s ORDER BY id", user_id),
        "progress": db_all("SELECT * FROM skill_progress WHERE owner_id = %s ORDER BY id", user_id),
        "changes": db_all("SELECT * FROM changes WHERE owner_id = %s ORDER BY version", user_id),
        "user": db_one("SELECT * FROM users WHERE id = %s", user_id),
    }
