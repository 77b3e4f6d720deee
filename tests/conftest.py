"""Fixtures: the real local stack (Postgres, Redis behind the Upstash bridge, moto) for the session.

With DATABASE_URL or UPSTASH_REDIS_REST_URL/TOKEN set, those services are used instead of the
embedded ones. Between tests every table is truncated and Redis flushed, through the same client
code production uses.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from local.servers import service_dir
from local.stack import FAKE_AWS, LocalStack

os.environ.setdefault("SAM_CLI_TELEMETRY", "0")
for _key, _value in FAKE_AWS.items():
    os.environ[_key] = _value


def reset_clients() -> None:
    """Forget every container-level client so the next use reads the current environment."""
    from shared import cache, db, keys, realtime
    from shared.settings import reset_settings

    reset_settings()
    db.reset()
    cache.reset()
    keys.reset()
    from shared import aws, storage  # issue 6: S3/SQS/SES clients

    storage.reset()
    aws.reset()
    realtime.reset()


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    folder = service_dir("atribuo-test-")
    local = LocalStack(folder).start()
    reset_clients()
    from shared import db
    from shared.migrate import migrate

    migrate(db.get_conn())
    yield local
    reset_clients()
    local.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def clean_state(stack: LocalStack) -> Iterator[None]:
    """Every test starts from empty tables and an empty Redis."""
    from shared import cache, db

    reset_clients()
    conn = db.get_conn()
    tables = [r["tablename"] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
    ).fetchall()]
    if tables:
        conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    cache.get_redis().flushdb()
    yield
    reset_clients()


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One argon2 hash of ``TEST_PASSWORD``, computed once (hashing is deliberately slow)."""
    from shared.passwords import hash_password

    return hash_password(TEST_PASSWORD)


TEST_PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(password_hash: str):
    """Create a user straight in Postgres; returns ``(user_row, auth_headers)``.

    Tests of other functions use this to get a real, signed access token for a real user.
    """
    from shared import db
    from shared.auth import issue_access_token
    from shared.repositories.users import create_user

    def factory(username: str = "alice", **fields):
        user = create_user(db.get_conn(), username=username, email=fields.pop("email", f"{username}@example.com"),
                           password_hash=password_hash, display_name=fields.pop("display_name", username.title()))
        token, _ = issue_access_token(user["id"])
        return user, {"authorization": f"Bearer {token}"}

    return factory


# Counting wrappers (tests/counting.py): SQL statements and Redis round trips per request.
from tests.counting import redis_counter, sql_counter  # noqa: E402, F401


@pytest.fixture(scope="session")
def ws_gateway(stack: LocalStack):
    """The local WebSocket gateway (real handlers, ``@connections`` endpoint) on a free port.

    It sets WEBSOCKET_URL / WEBSOCKET_MANAGEMENT_URL, so tickets and ``shared.realtime`` use it.
    """
    from local.invoker import Invoker
    from local.servers import ServerThread
    from local.ws_gateway import WebSocketGateway

    invoker = Invoker()
    gateway = WebSocketGateway(invoker)
    server = ServerThread(gateway).start()
    stack.set_websocket(server.url)
    reset_clients()
    gateway.url = server.url
    yield gateway
    server.stop()
    invoker.shutdown()
