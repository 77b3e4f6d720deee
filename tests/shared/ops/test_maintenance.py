"""shared.ops.maintenance against real Postgres: bounded statements, paged compaction, time budget."""

from __future__ import annotations

import itertools

import pytest

from shared.clients import db
from shared.clients.registry import reset_all
from shared.ops import maintenance
from shared.repositories import sync
from tests.support.maintenance import Records, floor, log_versions, remaining, seed_operations
from tests.support.realtime import add_changes

pytestmark = pytest.mark.usefixtures("no_mail_queue")  # they count the steps; see the fixture


PURGES = 11  # tokens, compaction, connections, operations, conflicts, digest sends, mailed links, tombstones, log,
# and (issue 17) achievement rarity and the achievement backfill (no backfill pending: one read)
FOREVER = 10**9


@pytest.fixture
def settings(monkeypatch):
    def apply(**values: int) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key.upper(), str(value))
        reset_all()
    return apply


def statements_on(counter, table: str) -> int:
    return sum(f"DELETE FROM {table}" in s for s in counter.statements)


def test_an_empty_database_costs_one_statement_per_purge(sql_counter):
    result = maintenance.run(lambda: FOREVER)
    assert result["complete"] and sum(v for k, v in result.items() if k != "complete") == 0
    assert sql_counter.count == PURGES, sql_counter.statements


def test_deletes_are_paged_by_the_batch_size(make_user, settings, sql_counter):
    settings(maintenance_batch_rows=2)
    user, _ = make_user()
    records = Records()
    seed_operations(user["id"], records, old=5, fresh=1)
    sql_counter.reset()
    result = maintenance.run(lambda: FOREVER)
    assert statements_on(sql_counter, "applied_operations") == 3  # 2 + 2 + 1
    assert sql_counter.count == PURGES - 1 + 3, sql_counter.statements
    assert result["applied_operations"] == 5 and remaining("applied_operations") == {"fresh-0"}


def test_compaction_pages_users_and_bounds_the_rows_per_statement(make_user, settings, monkeypatch):
    keep = 10
    settings(sync_log_keep_versions=keep, maintenance_batch_rows=6)
    monkeypatch.setattr(maintenance, "COMPACT_USERS", 2)  # 2 users x 3 versions per statement
    versions = {"ann": 15, "ben": 11, "cyd": 10, "dan": 12, "eve": 40}
    users = {}
    for name, version in versions.items():
        users[name] = make_user(name)[0]["id"]
        add_changes(users[name], version)

    result = maintenance.run(lambda: FOREVER)

    assert result["changes"] == 5 + 1 + 2 + 30 and result["users_compacted"] == 4
    for name, version in versions.items():
        assert log_versions(users[name]) == list(range(max(1, version - keep + 1), version + 1)), name
        assert floor(users[name]) == (version - keep + 1 if version > keep else 0), name


def test_each_compaction_statement_deletes_at_most_users_times_step(make_user):
    user_ids = [make_user(f"user{i}")[0]["id"] for i in range(3)]
    for user_id in user_ids:
        add_changes(user_id, 50)
    after, statements = maintenance.FIRST_ID, 0
    while True:
        row = sync.compact_due(db.get_conn(), keep=10, after=after, users=2, step=4)
        statements += 1
        assert row["deleted"] <= 2 * 4
        after = row["resume_after"]
        if not row["more"]:
            break
    assert statements <= 3 * 10 + 1  # 40 versions each, 4 per statement, plus the final empty page
    assert all(log_versions(user_id) == list(range(41, 51)) for user_id in user_ids)


def test_each_compaction_statement_reads_a_bounded_window_of_users(make_user):
    """However few users are due, a statement looks at ``scan`` users at most and moves on."""
    user_ids = sorted(make_user(f"user{i}")[0]["id"] for i in range(7))
    add_changes(user_ids[5], 15)  # the only user over the limit, near the end of the walk
    after, windows = maintenance.FIRST_ID, []
    while True:
        row = sync.compact_due(db.get_conn(), keep=10, after=after, users=2, step=100, scan=2)
        windows.append((row["users"], row["resume_after"]))
        after = row["resume_after"]
        if not row["more"]:
            break
    # 7 users, 2 per window: 4 statements; the third window (users 4 and 5) found the due one.
    assert windows == [(0, user_ids[1]), (0, user_ids[3]), (1, user_ids[5]), (0, user_ids[6])]
    assert log_versions(user_ids[5]) == list(range(6, 16))


def test_the_floor_never_moves_down(make_user, settings):
    settings(sync_log_keep_versions=10)
    user, _ = make_user()
    add_changes(user["id"], 30)
    sync.compact(db.get_conn(), user["id"], keep=5)  # an earlier, tighter compaction: floor 26
    assert maintenance.run(lambda: FOREVER)["changes"] == 0
    assert floor(user["id"]) == 26 and log_versions(user["id"]) == list(range(26, 31))


def test_a_run_cut_short_carries_on_next_time(make_user, settings):
    settings(maintenance_batch_rows=2)
    user, _ = make_user()
    records = Records()
    seed_operations(user["id"], records, old=5, fresh=1)
    budget = itertools.chain([FOREVER] * 2, itertools.repeat(0))  # tokens and connections only
    first = maintenance.run(lambda: next(budget))
    assert first["complete"] is False and "applied_operations" not in first
    assert len(remaining("applied_operations")) == 6
    second = maintenance.run(lambda: FOREVER)
    assert second["complete"] and second["applied_operations"] == 5


@pytest.mark.parametrize(("statement", "params", "index"), [
    ("PURGE_APPLIED", {"retention_s": 60, "key_ttl_s": 30, "limit": 10}, "applied_operations_created_idx"),
    ("PURGE_CONFLICTS", {"retention_s": 60, "limit": 10}, "sync_conflicts_created_idx"),
    ("PURGE_EXPIRED", {"max_lifetime_s": 60, "limit": 10}, "ws_connections_expires_idx"),
    ("account_tokens.PURGE_EXPIRED", {"limit": 10}, "account_tokens_expires_idx"),
    ("users.PURGE_TOMBSTONES", {"limit": 10}, "username_tombstones_reserved_idx"),
    ("security_events.PURGE_OLD", {"retention_s": 60, "limit": 10}, "security_events_created_idx"),
])
def test_every_purge_page_can_find_its_rows_by_index(statement, params, index):
    """A page of old rows is found through an index, not a scan of the whole table (the planner is
    told to avoid sequential scans, so it picks the index exactly when there is one to pick)."""
    from shared import repositories
    from shared.repositories import account_tokens, connections, operations, security_events, users  # noqa: F401

    if "." in statement:
        module, name = statement.split(".")
        sql = getattr(getattr(repositories, module), name)
    else:
        sql = getattr(connections if statement == "PURGE_EXPIRED" else operations, statement)
    conn = db.get_conn()
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(next(iter(r.values())) for r in conn.execute("EXPLAIN " + sql, params).fetchall())
    assert index in plan, plan


def test_a_failing_purge_is_logged_and_the_others_still_run(make_user, settings):
    """One purge hitting its statement timeout (here: its table locked by another session) must not
    starve every purge after it, every day. The timeout is the role's (migration 008, 5 s): the
    one a pooled connection really has."""
    import psycopg

    from shared.core.settings import get_settings

    settings(maintenance_batch_rows=2)
    user, _ = make_user()
    records = Records()
    seed_operations(user["id"], records, old=3, fresh=1)
    with psycopg.connect(get_settings().database_dsn()) as locker:
        locker.execute("LOCK TABLE ws_connections IN ACCESS EXCLUSIVE MODE")
        result = maintenance.run(lambda: FOREVER)
    assert result["complete"] is False and "ws_connections" not in result
    assert result["applied_operations"] == 3 and len(remaining("applied_operations")) == 1


def test_expired_links_tombstones_and_old_security_events_go_and_nothing_else(make_user):
    """Issue 15's tables: expired mailed links and tombstones, and log entries past the retention."""
    user, _ = make_user()
    conn = db.get_conn()
    for n, expires in enumerate(("now() - interval '2 hours'", "now() + interval '1 hour'")):
        conn.execute("INSERT INTO account_tokens (token_hash, user_id, purpose, email, expires_at)"
                     f" VALUES (%s, %s, 'verify_email', 'a@example.com', {expires})", (bytes([n]) * 32, user["id"]))
    conn.execute("INSERT INTO username_tombstones (username, reserved_until) VALUES"
                 " ('gone_old', now() - interval '1 day'), ('gone_new', now() + interval '1 day')")
    conn.execute("INSERT INTO security_events (user_id, kind, created_at) VALUES"
                 " (%(u)s, 'sign_in', now() - interval '400 days'), (%(u)s, 'sign_in', now())", {"u": user["id"]})
    result = maintenance.run(lambda: FOREVER)
    assert (result["account_tokens"], result["username_tombstones"], result["security_events"]) == (1, 1, 1)
    assert [r["token_hash"] for r in conn.execute("SELECT token_hash FROM account_tokens").fetchall()] == [b"\x01" * 32]
    assert [r["username"] for r in conn.execute("SELECT username FROM username_tombstones").fetchall()] == ["gone_new"]
    assert conn.execute("SELECT count(*) AS n FROM security_events").fetchone()["n"] == 1
    assert maintenance.run(lambda: FOREVER)["account_tokens"] == 0  # a second run deletes nothing
