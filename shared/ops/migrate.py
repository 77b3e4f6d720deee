"""Apply the numbered SQL files in ``shared/ops/migrations`` in order, once each.

Each file runs in its own transaction and is recorded in ``schema_migrations`` with a checksum (in
that same transaction), so running it again is a no-op, an edited, already-applied file is refused
instead of drifting, and a failing file leaves every file before it applied.

Two concurrent runs (two deploys, or a deploy and ``make migrate``) are serialised by a
transaction-scoped advisory lock taken at the start of each file's transaction: a session-scoped
lock would not survive a transaction-mode pooler (the unlock could reach another server session).

Migrations may take longer than a request: each transaction raises the role's statement timeout
with ``SET LOCAL`` (gone when it ends) and the connection's client-side deadline is raised to match.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = 7_411_020_117  # any constant; identifies "atribuo migrations" among advisory locks
STATEMENT_TIMEOUT_MS = 120_000  # per statement of a migration; the migrate function has 300 s in all
READ_TIMEOUT_S = STATEMENT_TIMEOUT_MS / 1000 + 5


def pending_files() -> list[Path]:
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql"))


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _begin(conn: psycopg.Connection) -> dict[str, str]:
    """Inside a fresh transaction: the limits, the lock, the ledger; returns version → checksum."""
    from shared.clients import db

    db.set_local_statement_timeout(conn, STATEMENT_TIMEOUT_MS)
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    return {row["version"]: row["checksum"] for row in rows}


def migrate(conn: psycopg.Connection, files: list[Path] | None = None) -> list[str]:
    """Apply what is missing, one transaction per file; return the versions applied by this call.

    ``conn`` uses dict rows and autocommit (the container's connection).
    """
    from shared.clients import db

    applied: list[str] = []
    with db.read_timeout(conn, READ_TIMEOUT_S):
        for path in files if files is not None else pending_files():
            version, checksum = path.stem, _checksum(path)
            with conn.transaction():
                done = _begin(conn)  # re-read under the lock: another run may have applied it
                if version in done:
                    if done[version] != checksum:
                        raise RuntimeError(f"migration {version} was edited after it was applied")
                    continue
                conn.execute(path.read_text())
                conn.execute("INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                             (version, checksum))
            applied.append(version)
    return applied


def main() -> None:
    """``python -m shared.ops.migrate``: apply migrations to DATABASE_URL."""
    from shared.clients import db

    for version in migrate(db.get_conn()):
        print(f"applied {version}")
    print("migrations up to date")


if __name__ == "__main__":
    main()
