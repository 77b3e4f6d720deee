"""``Idempotency-Key`` on every authenticated POST, PATCH and DELETE (issue 13).

The first request with a key runs and its response (status, headers, body) is stored; a retry with
the same key and the same request (method, path, query and body, hashed) gets those bytes back,
with ``Idempotent-Replayed: true``. The same key with a different request is a 422
(``idempotency_key_reused``); a retry while the first is still running is a 409
(``idempotency_in_flight``, ``Retry-After: 1``). Keys are per user and expire after
``idempotency_key_ttl_s`` (maintenance purges them).

It reuses the offline batch's once-only table (``applied_operations``; a key is stored as op id
``"@" + key``, and ``@`` can never start a batch op id): the claim is the same
``INSERT … ON CONFLICT DO NOTHING``, and the same maintenance purge drops expired keys.

Answers that guarantee nothing happened are not stored, and free the key for a retry: every 5xx
(including ``outcome_unknown``, when the database link broke mid-statement) and 429. Nor are
``Cache-Control: no-store`` answers (token pairs, single-use tickets, batch results with their own
``op_id``s): secrets are never kept at rest, so such a retry runs again. A retry then
runs again, which is safe: ``shared.clients.db`` never re-sends a statement by itself, a re-run
PATCH/DELETE sets absolute values (a repeat is a no-op: no second history row), and a ``POST
/skills`` with a key takes its skill id from the key (``context.idempotency_key``), so a re-run
create finds the skill its first run made and answers with it instead of a 409.

Requests without a valid bearer token are passed through untouched (the route answers them,
mostly 401): sign-in and registration answers carry tokens, which are never stored at rest. For the
same reason nothing under ``/api/v1/auth/`` is stored even with a bearer token: a password change and
an OAuth sign-in callback (issue 16) answer with a fresh token pair.

Why not Powertools' idempotency utility: it persists to DynamoDB (a new table and client on every
write path; its Redis store needs a TCP Redis, not Upstash's REST), keys by a JMESPath over the raw
event (the user comes from our own token verification, which that path cannot see, so keys could
not be scoped per user), replays the whole Lambda result, and the deps layer prunes it; Postgres
already holds the once-only table and its purge.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from shared.clients import db
from shared.core import context
from shared.core.errors import IdempotencyInFlightError, IdempotencyKeyReusedError, ValidationFailedError
from shared.core.i18n import N_
from shared.core.observability import logger
from shared.core.settings import get_settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

METHODS = {"POST", "PATCH", "DELETE"}
HEADER = b"idempotency-key"
KEY = re.compile(r"[\x21-\x7e]{1,99}")  # visible ASCII; 99 = the op id column's 100 minus the "@"
PREFIX = "@"
KEYED_IDS = uuid.UUID("6f1d2c1e-5b0a-4d3e-9c8f-13a7e0b1d2c4")  # uuid5 namespace of ids derived from keys
AUTH_ROUTES = "/api/v1/auth/"  # answers that may carry tokens: never stored (see above)
NOT_KEPT = {429}  # plus every 5xx: answers after which nothing happened, or nothing is known


def keyed_id(user_id: uuid.UUID) -> uuid.UUID | None:
    """The id a create takes when its request carries an Idempotency-Key (None without one): the
    same user and key always give the same id, so a re-run create finds what its first run made."""
    key = context.idempotency_key.get()
    return uuid.uuid5(KEYED_IDS, f"{user_id}:{key}") if key is not None else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _user(scope: Scope) -> Any:
    """The verified caller, or None (no bearer token, or one the route will refuse)."""
    scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    from shared.core.errors import UnauthorizedError
    from shared.identity.tokens import verify_access_token

    try:
        return verify_access_token(token.strip()).user_id
    except UnauthorizedError:
        return None


def _claim(user: uuid.UUID, op_id: str, digest: str) -> tuple[bool, dict[str, Any] | None]:
    """Claim the key for this run. The claim names the run, so when the link breaks after it
    committed (``outcome_unknown``), sending it once more is safe: it finds its own claim."""
    from shared.core.errors import ServiceUnavailableError
    from shared.repositories import operations  # here: psycopg loads on first use, never at import

    run, ttl = uuid.uuid4().hex, get_settings().idempotency_key_ttl_s
    for attempt in (1, 2):
        try:
            return db.run(lambda conn: operations.claim_request(conn, user, op_id, digest, run=run, ttl_s=ttl))
        except ServiceUnavailableError as exc:
            if exc.code != "outcome_unknown" or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _no_store(headers: list[tuple[bytes, bytes]]) -> bool:
    """An answer no cache may keep is not kept here either: token pairs (a password change), single-use
    tickets, batch results (the batch has its own once-only ``op_id``)."""
    return any(k.lower() == b"cache-control" and b"no-store" in v.lower() for k, v in headers)


class IdempotencyMiddleware:
    """Stores and replays the first answer to each ``Idempotency-Key`` (see the module docstring)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = (_header(scope, HEADER) if scope["type"] == "http" and scope["method"] in METHODS
               and not scope["path"].startswith(AUTH_ROUTES) else None)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not KEY.fullmatch(key):  # the edge answers every raised AppError in the one envelope
            detail = [{"field": "header.idempotency-key", "message": N_("1 to 99 visible ASCII characters"),
                       "type": "idempotency_key"}]
            raise ValidationFailedError("invalid input: header.idempotency-key", details=detail)
        user = _user(scope)
        if user is None:
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:  # the whole body, to hash it (the edge already capped its size)
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        digest = hashlib.sha256(b"\n".join([scope["method"].encode(), scope["path"].encode(),
                                            scope.get("query_string", b""), body])).hexdigest()
        claimed, stored = _claim(user, PREFIX + key, digest)
        if not claimed:
            await self._answer_again(send, stored, digest)
            return
        await self._first(scope, body, send, user, PREFIX + key, digest, key)

    async def _answer_again(self, send: Send, stored: dict[str, Any] | None, digest: str) -> None:
        if stored is not None and stored.get("request") != digest:
            raise IdempotencyKeyReusedError("this Idempotency-Key was used for a different request")
        if stored is None or "status" not in stored:
            raise IdempotencyInFlightError("the first request with this Idempotency-Key is still running",
                                           headers={"Retry-After": "1"})
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored["headers"]]
        await send({"type": "http.response.start", "status": stored["status"],
                    "headers": [*headers, (b"idempotent-replayed", b"true")]})
        await send({"type": "http.response.body", "body": base64.b64decode(stored["body"])})

    async def _first(self, scope: Scope, body: bytes, send: Send, user: Any, op_id: str, digest: str,
                     key: str) -> None:
        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        token = context.idempotency_key.set(key)
        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            self._release(user, op_id)
            raise
        finally:
            context.idempotency_key.reset(token)
        status, headers, payload = int(start["status"]), list(start.get("headers", [])), b"".join(chunks)
        if status >= 500 or status in NOT_KEPT or _no_store(headers):
            self._release(user, op_id)
        else:
            result = {"request": digest, "status": status, "body": base64.b64encode(payload).decode(),
                      "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers]}
            from shared.repositories import operations

            try:
                db.run(lambda conn: operations.store_result(conn, user, op_id, result))
            except Exception as exc:  # the write committed: answer it; the key stays claimed until it expires
                logger.warning("idempotency store failed", extra={"error": type(exc).__name__})
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    @staticmethod
    def _release(user: Any, op_id: str) -> None:
        from shared.repositories import operations

        try:
            db.run(lambda conn: operations.release_request(conn, user, op_id))
        except Exception as exc:  # then it stays in flight until it expires
            logger.warning("idempotency release failed", extra={"error": type(exc).__name__})
