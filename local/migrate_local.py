"""``make migrate``: migrate DATABASE_URL, or the embedded Postgres that ``make dev`` uses."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    pg = None
    if not os.environ.get("DATABASE_URL"):
        from local.servers import start_postgres

        pg = start_postgres(ROOT / ".local" / "pg")
        os.environ["DATABASE_URL"] = pg.url
    os.environ.setdefault("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:1")  # not used by migrations
    os.environ.setdefault("UPSTASH_REDIS_REST_TOKEN", "unused-by-migrations")
    from shared.ops.migrate import main as migrate_main

    try:
        migrate_main()
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
