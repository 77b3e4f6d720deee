"""A byte-level proxy in front of Postgres that can break a connection right after a COMMIT.

``break_after_commit(of=…)`` arms it for the next statement whose text contains ``of``: the server's
answer to it is held back until its ReadyForQuery message (which Postgres sends only after the
statement's transaction committed), and then both sockets are closed instead of forwarding it.
The client sees the link drop with its statement committed and its answer lost. ``statements``
records every simple/extended query text the client sent, so a test can count how many times a
statement reached the server.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from urllib.parse import parse_qs, urlparse

LOOPBACK = "127.0.0.1"


def _upstream(url: str) -> tuple[int, object]:
    """(address family, address) of the Postgres behind ``url`` (unix socket dir or host:port)."""
    parsed = urlparse(url)
    host = parse_qs(parsed.query).get("host", [parsed.hostname or ""])[0]
    port = parsed.port or 5432
    if host.startswith("/"):
        return socket.AF_UNIX, f"{host}/.s.PGSQL.{port}"
    return socket.AF_INET, (host, port)


class PgProxy:
    def __init__(self, upstream_url: str) -> None:
        self.family, self.address = _upstream(upstream_url)
        self.user = urlparse(upstream_url).username or "postgres"
        self.database = (urlparse(upstream_url).path or "/postgres").lstrip("/") or "postgres"
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(16)
        self.target: str | None = None
        self.armed = threading.Event()
        self.broken = threading.Event()
        self.statements: list[str] = []
        self._lock = threading.Lock()
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        port = self.listener.getsockname()[1]
        return f"postgresql://{self.user}@{LOOPBACK}:{port}/{self.database}?sslmode=disable"

    def break_after_commit(self, of: str) -> None:
        self.broken.clear()
        self.target = of

    def close(self) -> None:
        self._closing = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.socket(self.family, socket.SOCK_STREAM)
            server.connect(self.address)  # type: ignore[arg-type]
            threading.Thread(target=self._client_to_server, args=(client, server), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(server, client), daemon=True).start()

    def _client_to_server(self, client: socket.socket, server: socket.socket) -> None:
        pending = b""
        try:
            while data := client.recv(65536):
                pending += data
                pending = self._record(pending)
                server.sendall(data)
        except OSError:
            pass
        finally:
            _close(client, server)

    def _record(self, pending: bytes) -> bytes:
        """Note the text of each Query ('Q') / Parse ('P') message; keep an incomplete tail."""
        while len(pending) >= 5 and pending[0:1] in b"QPBEDSXHCcfdp":
            length = struct.unpack("!I", pending[1:5])[0]
            if len(pending) < 1 + length:
                break
            kind, payload, pending = pending[0:1], pending[5:1 + length], pending[1 + length:]
            if kind == b"Q":
                self._note(payload.split(b"\0", 1)[0])
            elif kind == b"P":
                self._note(payload.split(b"\0", 2)[1])
        if pending and pending[0:1] not in b"QPBEDSXHCcfdp":  # the startup packet: no type byte
            return b""
        return pending

    def _note(self, text: bytes) -> None:
        statement = text.decode(errors="replace")
        with self._lock:
            self.statements.append(statement)
            if self.target is not None and self.target in statement:
                self.target = None
                self.armed.set()

    def _server_to_client(self, server: socket.socket, client: socket.socket) -> None:
        held = b""
        try:
            while data := server.recv(65536):
                if not self.armed.is_set():
                    client.sendall(data)
                    continue
                held += data
                if _has_ready_for_query(held):  # committed: drop the answer and the link
                    self.armed.clear()
                    self.broken.set()
                    return
        except OSError:
            pass
        finally:
            _close(client, server)


def _has_ready_for_query(stream: bytes) -> bool:
    offset = 0
    while offset + 5 <= len(stream):
        kind = stream[offset:offset + 1]
        length = struct.unpack("!I", stream[offset + 1:offset + 5])[0]
        if offset + 1 + length > len(stream):
            return False
        if kind == b"Z":
            return True
        offset += 1 + length
    return False


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
