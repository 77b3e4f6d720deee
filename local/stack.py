"""The embedded local stack: Postgres, Redis + Upstash bridge, moto — the same for dev and tests.

``LocalStack.start()`` starts only what is not configured: with DATABASE_URL set it uses that
Postgres; with UPSTASH_REDIS_REST_URL/TOKEN set it uses that Redis endpoint. It then exports the
environment variables the functions read, so code runs exactly as it would in Lambda.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import servers

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def local_key_set(path: Path) -> str:
    """The local JWT key set, generated once and kept (so tokens survive a restart of make dev)."""
    if not path.exists():
        from shared.identity.keys import generate_key_set

        path.write_text(generate_key_set())
        path.chmod(0o600)
    return path.read_text()


def local_secret(path: Path) -> str:
    """A random local secret, generated once and kept (so emailed unsubscribe links survive restarts)."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text()


@dataclass
class LocalStack:
    state_dir: Path
    bridge_port: int = 0
    moto_port: int = 0
    with_moto: bool = True
    bridge_process: bool = False  # True: the bridge runs in its own process (make dev, benchmarks)
    with_oidc: bool = True  # the local OpenID provider for OAuth sign-in (issue 16)
    oidc_port: int = 0
    persist_aws: bool = False  # True (make dev): moto's S3 objects and sent mail survive a restart
    env: dict[str, str] = field(default_factory=dict)
    _stoppers: list[Any] = field(default_factory=list)
    redis: Any = None
    bridge: servers.ServerThread | servers.BridgeProcess | None = None
    postgres: servers.Postgres | None = None
    moto: Any = None
    pooler: Any = None  # local.pooler.PgBouncer, when start_pooler() put one in front of Postgres
    oidc: servers.WsgiServerThread | None = None

    def start(self) -> LocalStack:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not os.environ.get("DATABASE_URL"):
            self.postgres = servers.start_postgres(self.state_dir / "pg")
            self._stoppers.append(self.postgres.stop)
            self.env["DATABASE_URL"] = self.postgres.url
        if not (os.environ.get("UPSTASH_REDIS_REST_URL") and os.environ.get("UPSTASH_REDIS_REST_TOKEN")):
            self.start_bridge()
        if not (os.environ.get("JWT_KEYS") or os.environ.get("JWT_KEYS_SECRET")):
            self.env["JWT_KEYS"] = local_key_set(self.state_dir / "jwt-keys.json")
        if not (os.environ.get("DIGEST_SIGNING_SECRET") or os.environ.get("DIGEST_SIGNING_SECRET_ARN")):
            self.env["DIGEST_SIGNING_SECRET"] = local_secret(self.state_dir / "digest-signing-secret")
        if self.with_moto:
            for key, value in FAKE_AWS.items():
                self.env.setdefault(key, os.environ.get(key, value))
            self.moto = servers.start_moto(self.moto_port)
            self._stoppers.append(self.moto.stop)
            self.env["AWS_ENDPOINT_URL"] = self.moto.url
        if self.with_oidc and not os.environ.get("OAUTH_PROVIDERS"):
            self.start_oidc()
        # X-Ray tracing is off off-Lambda anyway (shared.core.tracing); said explicitly for the local stack.
        self.env.setdefault("POWERTOOLS_TRACE_DISABLED", os.environ.get("POWERTOOLS_TRACE_DISABLED", "true"))
        os.environ.update(self.env)
        if self.with_moto and self.persist_aws:
            from local import aws_state

            aws_state.restore(self.state_dir, self.moto.url)
        return self

    def start_oidc(self) -> None:
        """The local OpenID provider as "google", with Discord/Facebook-shaped user endpoints (issue 16)."""
        import json

        from local.oidc_provider import LOCAL_CLIENTS, provider_settings

        self.oidc = servers.start_oidc_provider(self.oidc_port)
        self._stoppers.append(self.oidc.stop)
        self.env["OAUTH_PROVIDERS"] = json.dumps(provider_settings(self.oidc.url))
        if not (os.environ.get("OAUTH_CLIENTS") or os.environ.get("OAUTH_CLIENTS_SECRET")):
            self.env["OAUTH_CLIENTS"] = json.dumps(LOCAL_CLIENTS)

    def start_bridge(self) -> None:
        """(Re)start the Redis bridge; tests stop it to prove the API degrades cleanly."""
        if self.redis is None:
            self.redis = servers.start_redis(self.state_dir / "redis.db")
        token = self.env.get("UPSTASH_REDIS_REST_TOKEN") or secrets.token_urlsafe(24)
        if self.bridge_process:
            self.bridge = servers.BridgeProcess(self.redis.socket_file, token, self.bridge_port)
        else:
            self.bridge = servers.start_bridge(self.redis, token, self.bridge_port)
        self.bridge_port = self.bridge.port
        self.env.update(UPSTASH_REDIS_REST_URL=self.bridge.url, UPSTASH_REDIS_REST_TOKEN=token)
        os.environ.update(self.env)

    def start_pooler(self) -> None:
        """Put a real PgBouncer (transaction mode) in front of the database: from now on every
        client connects through it (``make test-pooler``). Start it after the migrations, as a
        deploy does, so its server sessions carry the role's settings (migration 008)."""
        from local.pooler import start_pgbouncer

        self.pooler = start_pgbouncer(os.environ["DATABASE_URL"])
        self._stoppers.append(self.pooler.stop)
        self.env["DATABASE_URL"] = self.pooler.url
        os.environ.update(self.env)

    def set_websocket(self, http_url: str, public_url: str | None = None) -> None:
        """Point the realtime settings at a local WebSocket gateway (``make dev``, tests): clients
        connect to ``ws://…`` (WEBSOCKET_URL), functions post to ``http://…/@connections``."""
        self.env.update(WEBSOCKET_URL=public_url or "ws" + http_url.removeprefix("http"),
                        WEBSOCKET_MANAGEMENT_URL=http_url)
        # The same server answers Lambda's Invoke API: $connect invokes the hello function there
        # (a function's local name is its logical id, what !Ref WsHelloFunction gives in AWS).
        self.env.update(AWS_ENDPOINT_URL_LAMBDA=http_url, WS_HELLO_FUNCTION="WsHelloFunction")
        os.environ.update(self.env)

    def stop_bridge(self) -> None:
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge = None

    def stop(self) -> None:
        if self.moto is not None and self.persist_aws:
            from local import aws_state

            with contextlib.suppress(Exception):  # best effort on the way out
                aws_state.save(self.state_dir, self.moto.url)
        self.stop_bridge()
        for stop in reversed(self._stoppers):
            with contextlib.suppress(Exception):  # best effort on the way out
                stop()
        if self.redis is not None:
            self.redis.shutdown()
