"""Apply the numbered SQL files in ``shared/ops/migrations`` in order, once each.

Each file runs in its own transaction and is recorded in ``schema_migrations`` with a checksum, so
running it again is a no-op and an edited, already-applied file is refused instead of drifting.
An advisory lock makes two concurrent runs (two deploys, or a deploy and ``make migrate``) safe.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = 7_411_020_117  # any constant; identifies "atribuo migrations" among advisory locks


def pending_files() -> list[Path]:
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql"))


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply what is missing; return the versions applied by this call. ``conn`` uses dict rows."""
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        done = {row["version"]: row["checksum"] for row in rows}
        for path in pending_files():
            version, checksum = path.stem, _checksum(path)
            if version in done:
                if done[version] != checksum:
                    raise RuntimeError(f"migration {version} was edited after it was applied")
                continue
            conn.execute(path.read_text())
            conn.execute("INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)", (version, checksum))
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
