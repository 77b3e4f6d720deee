"""Realtime fan-out: publish to 1, 10 and 100 connections of one user, concurrent vs sequential,
and what publishing adds to a write path (0 vs 10 connections).

Real sockets through the local WebSocket gateway's ``@connections`` endpoint (moto's
apigatewaymanagementapi accepts posts to any id and never answers 410, so it cannot stand in).
Sequential = the same query, then one ``post_to_connection`` after another; concurrent =
``shared.sync.fanout.publish`` (its module-level thread pool). Medians of several runs, side by side.
Assumes the local stack's environment is started and migrated (the bench harness does that);
``python -m bench realtime`` runs it alone.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

FAN_OUTS = (1, 10, 100)
REPEATS = 9
# In-process, every post costs CPU on both ends under one GIL, so concurrency cannot show; API
# Gateway's management API is a network round trip (~tens of ms from Lambda), which is what the
# pool hides. So the fan-out is measured twice: as is, and with a modelled 20 ms round trip.
MODELLED_RTT_S = 0.020
RTT_FAN_OUTS = (10, 100)
RTT_REPEATS = 3
WRITE_REPEATS = 30
WRITE = """
WITH u AS (UPDATE users SET sync_version = sync_version + 1 WHERE id = %(user)s RETURNING sync_version)
INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
SELECT %(user)s, u.sync_version, 'skill', gen_random_uuid(), 'upsert', '{"name": "bench", "level": 5}'::jsonb
FROM u RETURNING version, entity, entity_id, op, data
"""


def _median_ms(work: Callable[[], Any], repeats: int) -> float:
    work()  # warm: client, pool threads, connections
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


class Devices:
    """Many real WebSocket clients on one background event loop, draining whatever they receive."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sockets: list[Any] = []

    def open(self, urls: list[str]) -> None:
        asyncio.run_coroutine_threadsafe(self._open(urls), self.loop).result(60)

    async def _open(self, urls: list[str]) -> None:
        from websockets.asyncio.client import connect

        for url in urls:
            sock = await connect(url)
            self.sockets.append(sock)
            self.loop.create_task(self._drain(sock))

    @staticmethod
    async def _drain(sock: Any) -> None:
        async for _ in sock:
            pass

    def close(self) -> None:
        async def close_all() -> None:
            await asyncio.gather(*(s.close() for s in self.sockets), return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)


def _new_user(conn: Any) -> Any:
    from shared.repositories.users import create_user

    name = f"bench_rt_{secrets.token_hex(4)}"
    return create_user(conn, username=name, email=f"{name}@bench.local", password_hash=secrets.token_hex(8))["id"]


def _connect(devices: Devices, user: Any, count: int) -> None:
    """Bring ``user`` up to ``count`` open sockets (each through a ticket and the real $connect)."""
    from shared.identity.tickets import issue_ticket

    missing = count - len(devices.sockets)
    devices.open([f"{os.environ['WEBSOCKET_URL']}?ticket={issue_ticket(user)[0]}" for _ in range(missing)])


def _fan_out_rows(conn: Any, gateway: Any, opened: list[Devices]) -> list[tuple[str, str]]:
    from shared.clients import db
    from shared.repositories import connections
    from shared.sync import fanout as realtime

    message = {"type": "change", "version": 1, "entity": "skill", "entity_id": "x", "op": "upsert",
               "data": {"name": "Python", "level": 8}}
    data, _ = realtime.encode(message)
    sender = realtime.Sender(realtime.management_client())
    rows = []
    for rtt, counts, repeats in ((0.0, FAN_OUTS, REPEATS), (MODELLED_RTT_S, RTT_FAN_OUTS, RTT_REPEATS)):
        gateway.management_latency_s = rtt
        user, devices = _new_user(conn), Devices()
        opened.append(devices)

        def sequential(user: Any = user) -> None:
            for cid in db.run(lambda c: connections.live_for_user(c, user)):
                sender.post(cid, data)

        for count in counts:
            _connect(devices, user, count)
            assert realtime.publish(user, message).sent == count
            seq = _median_ms(sequential, repeats)
            conc = _median_ms(lambda user=user: realtime.publish(user, message), repeats)
            where = f"{rtt * 1000:.0f} ms RTT" if rtt else "in-process"
            rows.append((f"fan-out to {count:>3} connections ({where}): sequential / concurrent",
                         f"{seq:.2f} ms / {conc:.2f} ms = {seq / conc:.1f}x"))
    gateway.management_latency_s = 0.0
    return rows


def _write_path_rows(user: Any, idle_user: Any) -> list[tuple[str, str]]:
    from shared.clients import db
    from shared.sync import fanout as realtime

    def write(owner: Any) -> dict[str, Any]:
        return db.run(lambda conn: conn.execute(WRITE, {"user": owner}).fetchone())

    alone = _median_ms(lambda: write(idle_user), WRITE_REPEATS)
    none = _median_ms(lambda: realtime.publish_change(idle_user, write(idle_user)), WRITE_REPEATS)
    ten = _median_ms(lambda: realtime.publish_change(user, write(user)), WRITE_REPEATS)
    return [
        ("write path: write alone (version bump + change row)", f"{alone:.2f} ms"),
        ("write path: + publish_change, 0 connections", f"{none:.2f} ms (+{none - alone:.2f} ms, {none / alone:.2f}x)"),
        ("write path: + publish_change, 10 connections", f"{ten:.2f} ms (+{ten - alone:.2f} ms, {ten / alone:.2f}x)"),
    ]


def run() -> list[tuple[str, str]]:
    from local.invoker import Invoker
    from local.servers import ServerThread
    from local.ws_gateway import WebSocketGateway
    from shared.clients import db
    from shared.clients import redis as cache
    from shared.core.settings import reset_settings
    from shared.sync import fanout as realtime

    invoker = Invoker()
    gateway = WebSocketGateway(invoker)
    server = ServerThread(gateway).start()
    saved = {k: os.environ.get(k) for k in ("WEBSOCKET_URL", "WEBSOCKET_MANAGEMENT_URL")}
    os.environ.update(WEBSOCKET_URL=server.url.replace("http", "ws", 1), WEBSOCKET_MANAGEMENT_URL=server.url)
    for reset in (reset_settings, realtime.reset, cache.reset):
        reset()
    conn = db.get_conn()
    opened: list[Devices] = []
    try:
        rows = _fan_out_rows(conn, gateway, opened)
        user, idle_user = _new_user(conn), _new_user(conn)
        opened.append(Devices())
        _connect(opened[-1], user, 10)
        rows += _write_path_rows(user, idle_user)
        return rows
    finally:
        for devices in opened:
            devices.close()
        db.get_conn().execute("DELETE FROM users WHERE username LIKE 'bench\\_rt\\_%'")  # this bench's users
        server.stop()
        invoker.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()
        realtime.reset()
