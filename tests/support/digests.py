"""Test data and AWS plumbing for the avatar and digest tests (issue 6).

Skills and progress rows are inserted directly here (the skills API is another issue's work); the
digest pipeline helpers drive the real handlers with the event shapes AWS delivers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
import pytest

from local import aws_resources as res
from local.lambda_context import LambdaContext
from local.template import timeout_of


@pytest.fixture
def avatar_bucket(stack) -> str:
    """The moto bucket named in settings (created once; keys are unique per test user)."""
    import boto3

    from shared.core.settings import get_settings

    bucket = get_settings().avatar_bucket
    s3 = boto3.client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture
def digest_queue(stack) -> Iterator[str]:
    """A fresh digest queue (+ DLQ, + verified SES sender) for this test; its URL is in the settings
    (until the test ends: ``tests.support.mail.fresh_resources``)."""
    from tests.support.mail import fresh_resources

    with fresh_resources() as env:
        yield env["DIGEST_QUEUE_URL"]


class Mailbox:
    """moto's SES sent messages, from the point the test started."""

    def __init__(self) -> None:
        self.seen = {m["id"] for m in res.sent_emails()}

    def new(self) -> list[dict[str, Any]]:
        return [m for m in res.sent_emails() if m["id"] not in self.seen]

    def recipients(self) -> list[str]:
        return sorted(a for m in self.new() for a in m["destinations"]["ToAddresses"])


def add_skill(conn: psycopg.Connection, owner_id: uuid.UUID, name: str, *, level: int, category: str = "Programming",
              created_at: datetime) -> uuid.UUID:
    """A skill and its creation progress row (previous_level NULL), both at ``created_at``."""
    row = conn.execute(
        "WITH s AS (INSERT INTO skills (owner_id, name, category, level, created_at, updated_at)"
        " VALUES (%(o)s, %(n)s, %(c)s, %(l)s, %(t)s, %(t)s) RETURNING id, owner_id, level)"
        " INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, created_at)"
        " SELECT id, owner_id, NULL, level, %(t)s FROM s RETURNING skill_id",
        {"o": owner_id, "n": name, "c": category, "l": level, "t": created_at},
    ).fetchone()
    return row["skill_id"]


def level_up(conn: psycopg.Connection, skill_id: uuid.UUID, new_level: int, *, at: datetime,
             note: str | None = None) -> None:
    old = conn.execute("SELECT level FROM skills WHERE id = %s", (skill_id,)).fetchone()["level"]
    row = conn.execute("UPDATE skills SET level = %s, updated_at = %s WHERE id = %s RETURNING owner_id",
                       (new_level, at, skill_id)).fetchone()
    conn.execute("INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, note, created_at)"
                 " VALUES (%s, %s, %s, %s, %s, %s)", (skill_id, row["owner_id"], old, new_level, note, at))


def set_user(conn: psycopg.Connection, user_id: uuid.UUID, *, timezone: str = "UTC", opt_out: bool = False,
             verified: bool = True) -> None:
    """Digest settings; ``verified``: the address was proven (digests go only to verified addresses)."""
    conn.execute("UPDATE users SET timezone = %s, digest_opt_out = %s,"
                 " email_verified_at = CASE WHEN %s THEN now() END WHERE id = %s",
                 (timezone, opt_out, verified, user_id))


def seed_users(conn: psycopg.Connection, count: int, *, active_every: int, activity_at: datetime,
               prefix: str = "seed") -> int:
    """``count`` users in one generate_series statement; every ``active_every``-th one levelled a skill.

    Returns the number of active users. Constant statements, whatever ``count`` is.
    """
    conn.execute(
        "INSERT INTO users (username, email, password_hash, display_name, email_verified_at)"
        " SELECT %(p)s || '_' || g, %(p)s || g || '@example.com', 'not-a-login', 'Seed ' || g, now()"
        " FROM generate_series(1, %(n)s) AS g", {"p": prefix, "n": count})
    conn.execute(
        "INSERT INTO skills (owner_id, name, category, level, created_at, updated_at)"
        " SELECT id, 'Skill', 'Category', 4, %(t)s - interval '30 days', %(t)s FROM users"
        " WHERE username LIKE %(p)s || '\\_%%' AND substr(username, length(%(p)s) + 2)::int %% %(k)s = 0",
        {"p": prefix, "k": active_every, "t": activity_at})
    row = conn.execute(
        "WITH ins AS (INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, created_at)"
        " SELECT s.id, s.owner_id, 3, 4, %(t)s FROM skills s JOIN users u ON u.id = s.owner_id"
        " WHERE u.username LIKE %(p)s || '\\_%%' RETURNING 1) SELECT count(*) AS n FROM ins",
        {"p": prefix, "t": activity_at}).fetchone()
    return int(row["n"])


def run_planner(at: datetime) -> dict[str, Any]:
    from functions.digest_planner.app import handler

    return handler(res.scheduler_event(at), LambdaContext(function_name="digest_planner",
                                                          timeout_s=timeout_of("functions.digest_planner.app")))


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Receive every message now in the queue, without deleting (tests decide what to redeliver)."""
    messages = []
    while batch := res.receive(queue_url):
        messages += batch
    return messages


def run_worker(queue_url: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deliver ``messages`` to the worker in SQS batches of 10; the handler's responses."""
    from functions.digest_worker.app import handler

    arn = res.queue_arn(queue_url)
    timeout_s = timeout_of("functions.digest_worker.app")  # each invocation its own context, as in AWS
    return [handler(res.sqs_event(messages[i:i + 10], arn), LambdaContext(function_name="digest_worker",
                                                                         timeout_s=timeout_s))
            for i in range(0, len(messages), 10)]
