"""Weekly digest throughput: users per second through planner + worker, for 1k and 10k users.

Assumes the local stack is running and migrated (DATABASE_URL, AWS_ENDPOINT_URL for moto). Each size
seeds its own users (10% with activity, in a week of 2001 nobody else has), runs the real planner
handler with a scheduler event and feeds every message to the real worker handler as an SQS event,
then deletes what it created. A ratio near 1 means cost per user does not grow with the user count.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

SIZES = (1_000, 10_000)
ACTIVE_EVERY = 10
RUN_AT = datetime(2001, 1, 8, 8, tzinfo=UTC)  # a Monday 08:00 UTC


def _seed(conn: object, prefix: str, count: int) -> None:
    params = {"p": prefix, "n": count, "k": ACTIVE_EVERY, "t": RUN_AT - timedelta(days=2)}
    conn.execute("INSERT INTO users (username, email, password_hash, email_verified_at)"  # verified: issue 15
                 " SELECT %(p)s || g, %(p)s || g || '@example.com', 'x', now() FROM generate_series(1, %(n)s) g",
                 params)
    conn.execute("WITH s AS (INSERT INTO skills (owner_id, name, category, level, created_at, updated_at)"
                 " SELECT id, 'Skill', 'Bench', 4, %(t)s - interval '30 days', %(t)s FROM users"
                 " WHERE username LIKE %(p)s || '%%' AND substr(username, length(%(p)s) + 1)::int %% %(k)s = 0"
                 " RETURNING id, owner_id)"
                 " INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, created_at)"
                 " SELECT id, owner_id, 3, 4, %(t)s FROM s", params)


def _run(queue_url: str) -> tuple[int, int]:
    """Planner once, then the worker until the queue is empty; (users planned, emails sent)."""
    from functions.digest_planner.app import handler as planner
    from functions.digest_worker.app import handler as worker
    from local import aws_resources as res
    from local.lambda_context import LambdaContext
    from local.template import timeout_of  # each invocation the time (and deadline) it has in AWS

    planned = planner(res.scheduler_event(RUN_AT), LambdaContext(
        function_name="digest_planner", timeout_s=timeout_of("functions.digest_planner.app")))["users"]
    arn, sent = res.queue_arn(queue_url), 0
    while messages := res.receive(queue_url):
        response = worker(res.sqs_event(messages, arn), LambdaContext(
            function_name="digest_worker", timeout_s=timeout_of("functions.digest_worker.app")))
        res.delete_handled(queue_url, messages, response)
        sent += len(messages) - len(response["batchItemFailures"])
    return planned, sent


def run() -> list[tuple[str, str]]:
    import boto3

    from local import aws_resources as res
    from shared.clients import db

    env = res.ensure_resources(suffix="-bench-" + uuid.uuid4().hex[:8])
    rows, rates = [], {}
    try:
        for size in SIZES:
            prefix = "bd" + uuid.uuid4().hex[:6]
            conn = db.get_conn()
            _seed(conn, prefix, size)
            try:
                started = time.perf_counter()
                planned, _ = _run(env["DIGEST_QUEUE_URL"])
                elapsed = time.perf_counter() - started
            finally:
                conn.execute("DELETE FROM users WHERE username LIKE %s", (prefix + "%",))
            rates[size] = size / elapsed
            rows.append((f"digest {size:,} users ({planned:,} active)",
                         f"{rates[size]:,.0f} users/s ({elapsed:.2f} s)"))
    finally:
        sqs = boto3.client("sqs")
        for url in (env["DIGEST_QUEUE_URL"], env["DIGEST_DLQ_URL"]):
            sqs.delete_queue(QueueUrl=url)
    rows.append(("digest throughput ratio 10k/1k", f"{rates[SIZES[1]] / rates[SIZES[0]]:.2f}x"))
    return rows


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:45} {value}")
