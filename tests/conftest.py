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
from shared.clients.registry import reset_all
from tests.support.counting import redis_counter, sql_counter  # noqa: F401 - fixtures
from tests.support.maintenance import no_mail_queue  # noqa: F401 - fixture
from tests.support.users import TEST_PASSWORD

# tests/pooler/ asserts what only holds behind PgBouncer: collected by `make test-pooler` alone.
collect_ignore = [] if os.environ.get("ATRIBUO_POOLER") == "pgbouncer" else ["pooler"]

os.environ.setdefault("SAM_CLI_TELEMETRY", "0")
for _key, _value in FAKE_AWS.items():
    os.environ[_key] = _value


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    folder = service_dir("atribuo-test-")
    local = LocalStack(folder).start()
    reset_all()
    from shared.clients import db
    from shared.ops.migrate import migrate

    migrate(db.get_conn())
    if os.environ.get("ATRIBUO_POOLER") == "pgbouncer":  # make test-pooler
        db.reset()
        local.start_pooler()
        reset_all()
    yield local
    reset_all()
    local.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def clean_state(stack: LocalStack) -> Iterator[None]:
    """Every test starts from empty tables and an empty Redis."""
    from shared.clients import db
    from shared.clients import redis as cache

    reset_all()
    conn = db.get_conn()
    tables = [r["tablename"] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
    ).fetchall()]
    if tables:
        conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    cache.get_redis().flushdb()
    yield
    reset_all()


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One argon2 hash of ``TEST_PASSWORD``, computed once (hashing is deliberately slow)."""
    from shared.identity.passwords import hash_password

    return hash_password(TEST_PASSWORD)


@pytest.fixture
def make_user(password_hash: str):
    """Create a user straight in Postgres; returns ``(user_row, auth_headers)``.

    Tests of other functions use this to get a real, signed access token for a real user.
    """
    from shared.clients import db
    from shared.identity.tokens import issue_access_token
    from shared.repositories.users import create_user

    def factory(username: str = "alice", **fields):
        user = create_user(db.get_conn(), username=username, email=fields.pop("email", f"{username}@example.com"),
                           password_hash=password_hash, display_name=fields.pop("display_name", username.title()))
        token, _ = issue_access_token(user["id"])
        return user, {"authorization": f"Bearer {token}"}

    return factory


@pytest.fixture(scope="session")
def ws_gateway(stack: LocalStack):
    """The local WebSocket gateway (real handlers, ``@connections`` endpoint) on a free port.

    It sets WEBSOCKET_URL / WEBSOCKET_MANAGEMENT_URL, so tickets and ``shared.sync.fanout`` use it.
    """
    from local.invoker import Invoker
    from local.servers import ServerThread
    from local.ws_gateway import WebSocketGateway

    invoker = Invoker()
    gateway = WebSocketGateway(invoker)
    server = ServerThread(gateway).start()
    stack.set_websocket(server.url)
    reset_all()
    gateway.url = server.url
    yield gateway
    server.stop()
    invoker.shutdown()
