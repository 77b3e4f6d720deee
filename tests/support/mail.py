"""Account-mail plumbing for tests (issue 15): the mail queue + verified senders in moto, moto's SES
mailbox, and the mail worker driven with the SQS events AWS would deliver."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local import aws_resources as res
from local.lambda_context import LambdaContext


@contextmanager
def fresh_resources() -> Iterator[dict[str, str]]:
    """``ensure_resources`` with queues of this test's own, and their URLs taken out of the environment
    again afterwards: a later test must not enqueue to a queue that is gone (or was another test's) —
    maintenance enqueues verification invitations whenever MAIL_QUEUE_URL is set (issue 15)."""
    import boto3

    from shared.core.settings import reset_settings

    keys = ("DIGEST_QUEUE_URL", "DIGEST_DLQ_URL", "MAIL_QUEUE_URL")
    before = {key: os.environ.get(key) for key in keys}
    env = res.ensure_resources(suffix="-" + uuid.uuid4().hex[:12])
    try:
        yield env
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()
        sqs = boto3.client("sqs")
        for key in keys:
            sqs.delete_queue(QueueUrl=env[key])


@pytest.fixture
def mail_queue(stack) -> Iterator[str]:
    """Fresh digest + mail queues for this test (and verified SES senders); the mail queue's URL."""
    with fresh_resources() as env:
        yield env["MAIL_QUEUE_URL"]


class Mailbox:
    """moto's SES sent messages, from the point the test started."""

    def __init__(self) -> None:
        self.seen = {m["id"] for m in res.sent_emails()}

    def new(self, to: str | None = None) -> list[dict[str, Any]]:
        fresh = [m for m in res.sent_emails() if m["id"] not in self.seen]
        return [m for m in fresh if to is None or to in m["destinations"]["ToAddresses"]]

    def take(self, to: str) -> dict[str, Any]:
        """The one new mail to ``to`` (asserted), marked seen."""
        mails = self.new(to)
        assert len(mails) == 1, [m["subject"] for m in mails]
        self.seen.add(mails[0]["id"])
        return mails[0]


def token_in(mail: dict[str, Any]) -> str:
    """The token of the link in a mail; the text and HTML parts must carry the same link."""
    found = re.findall(r"[?&]token=([A-Za-z0-9_-]+)", mail["body"])
    assert found and set(found) == set(re.findall(r"[?&]token=([A-Za-z0-9_-]+)", mail["html"])), mail
    return found[0]


def run_mail_worker(queue_url: str) -> list[dict[str, Any]]:
    """Deliver what is on the mail queue to the real worker handler, as the event source mapping does."""
    from functions.mail_worker.app import handler

    results = []
    while messages := res.receive(queue_url):
        response = handler(res.sqs_event(messages, res.queue_arn(queue_url)), LambdaContext(function_name="mail"))
        res.delete_handled(queue_url, messages, response)
        results.append(response)
    return results
