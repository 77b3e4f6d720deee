"""Fixtures: the real local stack (Postgres, Redis behind the Upstash bridge, moto) for the session.

With DATABASE_URL or UPSTASH_REDIS_REST_URL/TOKEN set, those services are used instead of the
embedded ones. Between tests every table is truncated and Redis flushed, through the same client
code production uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local.stack import FAKE_AWS, LocalStack

os.environ.setdefault("SAM_CLI_TELEMETRY", "0")
for _key, _value in FAKE_AWS.items():
    os.environ[_key] = _value


def reset_clients() -> None:
    """Forget every container-level client so the next use reads the current environment."""
    from shared import cache, db
    from shared.settings import reset_settings

    reset_settings()
    db.reset()
    cache.reset()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(tmp_path_factory.mktemp("stack")).start()
    reset_clients()
    from shared import db
    from shared.migrate import migrate

    migrate(db.get_conn())
    yield local
    reset_clients()
    local.stop()


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
