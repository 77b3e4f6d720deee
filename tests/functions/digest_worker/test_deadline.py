"""The worker under its invocation's deadline (shared.core.deadline.bounded): an SES attempt that
could not finish before the function times out is not started; the record fails (SQS redelivers it)
instead of the whole invocation dying in a Lambda timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.digest_worker.app import handler
from local import aws_resources as res
from local.lambda_context import LambdaContext
from shared.clients import db
from shared.clients.aws import AWS_CONNECT_S, AWS_READ_S
from tests.support.digests import Mailbox, add_skill, drain, level_up, run_planner, set_user

MONDAY_8_UTC = datetime(2025, 2, 17, 8, 0, tzinfo=UTC)


def test_a_send_that_cannot_finish_in_time_fails_its_record_and_is_sent_on_redelivery(make_user, digest_queue):
    user, _ = make_user("ann")
    conn = db.get_conn()
    set_user(conn, user["id"])
    skill = add_skill(conn, user["id"], "Python", level=3, created_at=MONDAY_8_UTC - timedelta(days=40))
    level_up(conn, skill, 4, at=MONDAY_8_UTC - timedelta(days=2))
    assert run_planner(MONDAY_8_UTC)["users"] == 1
    messages = drain(digest_queue)
    event = res.sqs_event(messages, res.queue_arn(digest_queue))
    mailbox = Mailbox()

    almost_out = LambdaContext(function_name="digest_worker", timeout_s=AWS_CONNECT_S + AWS_READ_S)
    answer = handler(event, almost_out)
    assert [item["itemIdentifier"] for item in answer["batchItemFailures"]] == [m["MessageId"] for m in messages]
    assert mailbox.new() == []

    assert handler(event, LambdaContext(function_name="digest_worker", timeout_s=120)) == {"batchItemFailures": []}
    assert mailbox.recipients() == ["ann@example.com"]
