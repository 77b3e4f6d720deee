"""Daily maintenance: delete what no client and no guarantee needs any more, so no table only grows.

What goes (windows and their reasons in ``shared.core.settings``):
* ``refresh_tokens`` that expired, and every token of a family revoked over a week ago; a family
  goes with its last token. Unexpired rotated tokens of a live family stay: reusing one revokes it.
* ``changes`` beyond the last ``sync_log_keep_versions`` of each user, moving the user's floor so
  ``GET /sync?since=`` a compacted version answers with a snapshot (``repositories.sync``).
* ``ws_connections`` that API Gateway has closed (past their 2 h maximum lifetime).
* ``applied_operations``, ``sync_conflicts`` and ``digest_sends`` older than their windows.
* expired mailed links (``account_tokens``) and username tombstones, and ``security_events`` past
  their retention (issue 15).
Not a purge: accounts that predate e-mail verification are sent one verification link each, a
bounded number per run (``_invitations``, migration 019).
Not purges, but daily aggregates and one-off jobs that need the same budget (issue 17): achievement
rarity (``achievement_rarity``), and the backfill of achievements for users from before them.
Kept for good: users' own data (skills, their level history including superseded levels).

Every purge is a loop of small autocommit statements (``maintenance_batch_rows`` rows at most), so
no statement holds locks for long, and the loop stops while there is still time for one more
statement before the Lambda timeout; the next run carries on. Every statement is relative to
``now()``, so a run twice in a row deletes nothing the second time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.clients import aws, db
from shared.core.observability import logger
from shared.core.settings import Settings, get_settings
from shared.repositories import (
    account_tokens,
    achievements,
    connections,
    digests,
    operations,
    refresh_tokens,
    security_events,
    sync,
    users,
)

if TYPE_CHECKING:
    import psycopg

# A token is purged only this long after it expired, so a refresh racing the purge at the very
# instant of expiry (its ``now()`` a little older than ours) cannot have its family deleted under it.
EXPIRY_MARGIN_S = 3600
COMPACT_USERS = 100  # users per compaction statement
COMPACT_SCAN = 2000  # users read per compaction statement, due or not (bounded at any table size)
FIRST_ID = uuid.UUID(int=0)

Counts = dict[str, int]
# One batch: (rows deleted by kind, whether another batch is needed).
Batch = Callable[["psycopg.Connection"], tuple[Counts, bool]]


class Budget:
    """Time left in the invocation; a statement starts only if it can finish (its timeout) in time."""

    def __init__(self, remaining_ms: Callable[[], int], reserve_ms: int) -> None:
        self.remaining_ms, self.reserve_ms = remaining_ms, reserve_ms

    def allows_another(self) -> bool:
        return self.remaining_ms() > self.reserve_ms


def run(remaining_ms: Callable[[], int]) -> dict[str, Any]:
    """Run every purge: the rows deleted per table, and ``complete`` (False: stopped for time or a
    purge failed). A failing purge is logged and skipped, so it never starves the ones after it.

    The reserve covers a statement that hits its timeout, the reconnect ``db.run`` makes after a
    broken connection, and the statement's one retry.
    """
    settings = get_settings()
    reserve_ms = 2 * settings.db_statement_timeout_ms + int(settings.db_connect_timeout_s * 1000) + 1000
    budget = Budget(remaining_ms, reserve_ms)
    counts: Counts = {}
    complete = True
    for name, batch in _batches(settings):
        try:
            complete = _drain(batch, budget, counts) and complete
        except Exception as exc:  # one purge's failure must not stop the others
            logger.exception("maintenance purge failed", extra={"purge": name, "error": type(exc).__name__})
            complete = False
    return {**counts, "complete": complete}


def _drain(batch: Batch, budget: Budget, counts: Counts) -> bool:
    """Run ``batch`` until it reports nothing left (True) or time runs out (False)."""
    while budget.allows_another():
        done, more = db.run(batch)
        for key, value in done.items():
            counts[key] = counts.get(key, 0) + value
        if not more:
            return True
    return False


def _batches(s: Settings) -> list[tuple[str, Batch]]:
    """Every purge by name; change-log compaction last, as the one that can use the whole budget."""
    limit = max(1, s.maintenance_batch_rows)

    def tokens(conn: psycopg.Connection) -> tuple[Counts, bool]:
        row = refresh_tokens.purge_dead(conn, limit=limit, margin_s=EXPIRY_MARGIN_S,
                                        revoked_retention_s=s.refresh_revoked_retention_s)
        return {"refresh_tokens": row["tokens"], "refresh_families": row["families"]}, row["batch"] >= limit

    def single(key: str, purge: Callable[..., int], **params: int) -> Batch:
        def batch(conn: psycopg.Connection) -> tuple[Counts, bool]:
            deleted = purge(conn, limit=limit, **params)
            return {key: deleted}, deleted >= limit
        return batch

    return [
        ("refresh_tokens", tokens),
        ("ws_connections", single("ws_connections", connections.purge_expired, max_lifetime_s=s.ws_max_lifetime_s)),
        ("applied_operations", single("applied_operations", operations.purge_applied,
                                      retention_s=s.sync_op_retention_s, key_ttl_s=s.idempotency_key_ttl_s)),
        ("sync_conflicts", single("sync_conflicts", operations.purge_conflicts,
                                  retention_s=s.sync_conflict_retention_s)),
        ("digest_sends", single("digest_sends", digests.purge_sends, retention_s=s.digest_send_retention_s)),
        ("account_tokens", single("account_tokens", account_tokens.purge_expired)),
        ("username_tombstones", single("username_tombstones", users.purge_tombstones)),
        ("security_events", single("security_events", security_events.purge_old,
                                   retention_s=s.security_event_retention_s)),
        ("verification_invites", _invitations(s)),
        ("achievement_rarity", _rarity),
        ("achievement_backfill", _backfill(s.achievement_backfill_users)),
        ("changes", _compaction(s.sync_log_keep_versions, limit)),
    ]


SQS_BATCH = 10  # SendMessageBatch's maximum


def _invitations(s: Settings) -> Batch:
    """Issue 15 / migration 019: enqueue one verification invitation per account that predates
    verification (unverified, never sent a link, still wanting digests), at most
    ``verification_invites_per_run`` a run; the mail worker mails them. Enqueued first, stamped after:
    a crash in between can mail someone twice, never skip them. A stage without the mail queue skips."""
    import json

    after, sent = FIRST_ID, 0

    def batch(conn: psycopg.Connection) -> tuple[Counts, bool]:
        nonlocal after, sent
        want = min(SQS_BATCH, s.verification_invites_per_run - sent)
        if want <= 0 or not s.mail_queue_url:
            return {}, False
        ids = account_tokens.uninvited(conn, after=after, limit=want)
        if not ids:
            return {"verification_invites": 0}, False
        entries = [{"Id": str(n), "MessageBody": json.dumps({"v": 1, "kind": "verify_email", "user_id": str(i)})}
                   for n, i in enumerate(ids)]
        answer = aws.client("sqs").send_message_batch(QueueUrl=s.mail_queue_url, Entries=entries)
        queued = [ids[int(entry["Id"])] for entry in answer.get("Successful", [])]
        stamped = account_tokens.mark_invited(conn, queued) if queued else 0
        after, sent = ids[-1], sent + len(queued)
        if answer.get("Failed"):  # the queue refused some: stop here, the next run asks again
            logger.warning("verification invitations not queued", extra={"failed": len(answer["Failed"])})
            return {"verification_invites": stamped}, False
        return {"verification_invites": stamped}, len(ids) == want

    return batch


def _rarity(conn: psycopg.Connection) -> tuple[Counts, bool]:
    """Rarity of every achievement: one aggregate over the awards' code index and the users count
    (reported: how many rarities changed)."""
    return {"achievement_rarity": achievements.refresh_rarity(conn)}, False


def _backfill(users: int) -> Batch:
    """The one-off award of users from before achievements (migration 015's cutoff): a window of
    users per batch, each awarded by the statement a write uses (exactly once by the primary key, so
    a second run, or a window done twice after a crash, awards nothing new). Once the walk has
    finished (or when there is none) it costs one read a day and reports nothing. The awards are in
    the change log (devices get them from GET /sync); nothing is pushed from here."""
    def batch(conn: psycopg.Connection) -> tuple[Counts, bool]:
        page = achievements.backfill_page(conn, users)
        if not page["pending"]:
            return {}, False
        awarded = 0
        for user_id in page["users"]:
            row = achievements.award(conn, user_id)
            awarded += len(row["awards"]) if row else 0
        finished = page["scanned"] < users
        achievements.advance_backfill(conn, page["last"], finished=finished)
        return {"achievements_backfilled": awarded, "users_backfilled": len(page["users"])}, not finished

    return batch


def _compaction(keep: int, limit: int) -> Batch:
    """Pages of users over the log limit, in id order; at most ``limit`` changes rows per statement."""
    users = min(COMPACT_USERS, limit)
    step = max(1, limit // users)
    after = FIRST_ID

    def batch(conn: psycopg.Connection) -> tuple[Counts, bool]:
        nonlocal after
        row = sync.compact_due(conn, keep=keep, after=after, users=users, step=step, scan=COMPACT_SCAN)
        after = row["resume_after"]
        counts = {"changes": row["deleted"], "users_compacted": row["finished"]}
        return counts, row["more"]

    return batch
