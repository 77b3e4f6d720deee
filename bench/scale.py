"""``make bench-scale``: the routes' own statements at 10k and 100k users (1M with USERS=1000000),
medians side by side with the growth factor, in one run.

One embedded Postgres 16 (a fresh temporary data folder) holding one database per size, each
migrated and filled by the scale generator (``bench/scale_seed.py``: N users x 8 skills x 5 history
rows, ~90% public, one sign-in of three refresh tokens each) and VACUUMed. Each statement runs
through its repository function on one autocommit connection per database, as a warm Lambda
container would; writes run inside a transaction that is rolled back, so every round measures the
same store. Median of ROUNDS after WARMUP, the sizes interleaved statement by statement.
Budgets (issue 14): every growth factor <= 2x for 10x the users, the leaderboard <= 20 ms at 100k,
every statement well under 100 ms at 1M.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

ROUNDS = 21
WARMUP = 3
FIRST_SIZE = 10_000
MONDAY_8_UTC = datetime(2026, 11, 30, 8, tzinfo=UTC)  # a Monday: UTC's users are due at 08:00

Statement = Callable[[Any], object]


def sizes(largest: int) -> list[int]:
    """10k, then x10 up to ``largest`` (which is always included)."""
    steps = [FIRST_SIZE]
    while steps[-1] * 10 <= largest:
        steps.append(steps[-1] * 10)
    if steps[-1] != largest and largest > FIRST_SIZE:
        steps.append(largest)
    return steps


def _rolled_back(work: Statement) -> Statement:
    def run(conn: Any) -> object:
        conn.execute("BEGIN")
        try:
            return work(conn)
        finally:
            conn.execute("ROLLBACK")
    return run


def statements(conn: Any, users: int) -> dict[str, Statement]:
    """Every measured statement, bound to sample rows of a store of ``users`` generated users."""
    from shared.ops import maintenance
    from shared.repositories import digests, profiles, refresh_tokens, skills, sync

    someone = conn.execute("SELECT id, username FROM users WHERE username = %s", (f"user_{users // 2 + 1}",)).fetchone()
    if someone["username"].endswith("3"):  # user i with i % 10 == 3 is private: take a public one
        someone = conn.execute("SELECT id, username FROM users WHERE username = %s",
                               (f"user_{users // 2 + 2}",)).fetchone()
    skill = conn.execute("SELECT id, level FROM skills WHERE owner_id = %s LIMIT 1", (someone["id"],)).fetchone()
    zones = [z["name"] for z in digests.due_zones(conn, MONDAY_8_UTC, 8)]
    utc = conn.execute("SELECT count(*) AS n FROM users WHERE timezone = 'UTC'").fetchone()["n"]
    middle = conn.execute("SELECT id FROM users WHERE timezone = 'UTC' AND NOT digest_opt_out ORDER BY id "
                          "OFFSET %s LIMIT 1", (utc // 2,)).fetchone()["id"]
    since = MONDAY_8_UTC - timedelta(days=7)
    owner, username = someone["id"], someone["username"]
    new_level = 1 + skill["level"] % 10

    def planner_page(after: tuple[str, uuid.UUID] | None) -> Statement:
        return lambda c: digests.due_users_page(c, zones=zones, after=after, since=since, until=MONDAY_8_UTC,
                                                limit=1000)

    return {
        "leaderboard (overall)": lambda c: profiles.leaderboard(c, None, 100),
        "leaderboard (one category)": lambda c: profiles.leaderboard(c, "music", 100),
        "digest planner, page 1": planner_page(None),
        "digest planner, a page mid-UTC": planner_page(("UTC", middle)),
        "compaction page from the start": _rolled_back(lambda c: sync.compact_due(
            c, keep=1000, after=digests.FIRST_ID, users=maintenance.COMPACT_USERS, step=10,
            scan=maintenance.COMPACT_SCAN)),
        # 500 of each kind: a full batch at every size (10k users have 600 dead tokens of each kind)
        "purge of dead refresh tokens (500+500)": _rolled_back(lambda c: refresh_tokens.purge_dead(
            c, limit=500, margin_s=maintenance.EXPIRY_MARGIN_S, revoked_retention_s=7 * 86400)),
        "skill level-up (write + score upkeep)": _rolled_back(lambda c: skills.update_skill(
            c, owner, skill["id"], {"level": new_level})),
        "GET /skills (list)": lambda c: skills.list_skills(c, owner),
        "GET /progress (timeline)": lambda c: skills.timeline(c, owner),
        "GET /me/stats": lambda c: profiles.category_stats(c, owner),
        "GET /sync (snapshot)": lambda c: sync.read(c, owner, None, 1000),
        "GET /users/{name} (public profile)": lambda c: profiles.public_profile(c, username),
        **rank_statements(conn),
    }


def rank_statements(conn: Any) -> dict[str, Statement]:
    """Rank depth (issue 17): my rank sums the rank histogram (migration 021) over the scores above
    mine (O(distinct scores), not O(rank)); it is measured at #1,000, mid-board and last to show
    that; the window and a page at mid-board; the distribution reads the whole overall board
    (O(listed))."""
    from shared.repositories import ranks

    listed = conn.execute("SELECT count(*) AS n FROM skill_scores WHERE category = '' AND public").fetchone()["n"]

    def at(offset: int) -> Any:
        return conn.execute("SELECT owner_id, score, username FROM skill_scores WHERE category = '' AND public"
                            " ORDER BY score DESC, username OFFSET %s LIMIT 1", (offset,)).fetchone()

    top, middle, last = at(999), at(listed // 2), at(listed - 1)
    return {
        "GET /leaderboard/me (#1,000)": lambda c: ranks.my_ranks(c, top["owner_id"]),
        "GET /leaderboard/me (mid-board)": lambda c: ranks.my_ranks(c, middle["owner_id"]),
        "GET /leaderboard/me (last)": lambda c: ranks.my_ranks(c, last["owner_id"]),
        "?around=me (mid-board)": lambda c: ranks.around(c, middle["owner_id"], None),
        "?cursor= page of 100 (mid-board)": lambda c: ranks.board_page(
            c, None, (middle["score"], middle["username"]), 101),
        "GET /leaderboard/distribution (uncached)": ranks.distribution,
    }


def measure(stores: dict[int, tuple[Any, dict[str, Statement]]]) -> dict[int, dict[str, float]]:
    """Median ms of every statement at every size. Rounds interleave the sizes statement by
    statement, so a busy moment of the machine lands on every size alike and the growth factors
    stay fair on a shared CPU."""
    samples: dict[int, dict[str, list[float]]] = {size: {} for size in stores}
    names = list(next(iter(stores.values()))[1])
    for round_ in range(WARMUP + ROUNDS):
        for name in names:
            for size, (conn, statements_) in stores.items():
                started = time.perf_counter()
                statements_[name](conn)
                elapsed = time.perf_counter() - started
                if round_ >= WARMUP:
                    samples[size].setdefault(name, []).append(elapsed)
    return {size: {name: statistics.median(values) * 1000 for name, values in by_name.items()}
            for size, by_name in samples.items()}


def main() -> None:
    import psycopg
    from psycopg.rows import dict_row

    from bench.scale_seed import seed
    from local.servers import service_dir, start_postgres
    from shared.ops.migrate import migrate

    steps = sizes(int(os.environ.get("USERS") or 100_000))
    folder = service_dir("atribuo-scale-")
    postgres = start_postgres(folder / "pg")
    stores: dict[int, tuple[Any, dict[str, Statement]]] = {}
    try:
        admin = psycopg.connect(postgres.url, autocommit=True)
        for users in steps:  # one database per size, side by side in one server
            admin.execute(f"CREATE DATABASE scale_{users}")
            url = postgres.server.get_uri(f"scale_{users}")
            conn = psycopg.connect(url, autocommit=True, row_factory=dict_row, prepare_threshold=None)
            migrate(conn)
            started = time.perf_counter()
            seed(conn, users, rebuild_indexes=users >= 1_000_000, progress=users >= 1_000_000)
            conn.execute("SET statement_timeout = 0")  # (the role's 5 s is for requests)
            conn.execute("VACUUM (ANALYZE)")  # hint bits and visibility map set, as on a store in service
            conn.execute("RESET statement_timeout")
            print(f"seeded {users:,} users ({users * 8:,} skills, {users * 40:,} history rows) "
                  f"in {time.perf_counter() - started:.0f} s", flush=True)
            stores[users] = (conn, statements(conn, users))
        results = measure(stores)
        for conn, _ in stores.values():
            conn.close()
        admin.close()
    finally:
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    _print(steps, results)


def _print(steps: list[int], results: dict[int, dict[str, float]]) -> None:
    names = list(results[steps[0]])
    width = max(len(n) for n in names)
    head = "".join(f"{_size(u):>10}" for u in steps)
    growth = f"growth {_size(steps[0])}→{_size(steps[-1])}" if len(steps) > 1 else ""
    print(f"\n== scale (median of {ROUNDS} after {WARMUP} warm-up, ms)\n  {'statement':<{width}}{head}  {growth}")
    for name in names:
        cells = "".join(f"{results[u][name]:>10.2f}" for u in steps)
        factor = f"  {results[steps[-1]][name] / results[steps[0]][name]:>6.1f}x" if len(steps) > 1 else ""
        print(f"  {name:<{width}}{cells}{factor}")


def _size(users: int) -> str:
    return f"{users // 1_000_000}M" if users >= 1_000_000 else f"{users // 1000}k"


if __name__ == "__main__":
    main()
