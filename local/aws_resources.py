"""The AWS resources the template creates, created in moto for ``make dev`` and the tests.

Also builds the event shapes AWS would deliver (an EventBridge Scheduler event, an SQS batch for
Lambda) and reads the emails moto's SES "sent" (``GET {moto}/moto-api/data.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from datetime import datetime
from typing import Any

from local.deploy import avatar_bucket_cors, handoff_lifecycle
from shared.core.settings import get_settings, reset_settings

DIGEST_QUEUE = "atribuo-digests"
DIGEST_DLQ = "atribuo-digests-dlq"
MAIL_QUEUE = "atribuo-mail"  # issue 15: password-reset requests for the mail worker
MAX_RECEIVE_COUNT = 3
VISIBILITY_TIMEOUT_S = 30  # locally short, so a failed record is redelivered while you watch


def ensure_resources(visibility_timeout_s: int = VISIBILITY_TIMEOUT_S, suffix: str = "") -> dict[str, str]:
    """Create the avatar bucket, the digest queue + DLQ and the SES sender; export their settings.

    ``suffix`` gives tests a queue of their own (SQS allows one purge a minute, so they never purge).
    """
    import boto3

    settings = get_settings()
    ensure_avatar_bucket()
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName=DIGEST_DLQ + suffix)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)})
    queue_url = sqs.create_queue(QueueName=DIGEST_QUEUE + suffix, Attributes={
        "RedrivePolicy": redrive, "VisibilityTimeout": str(visibility_timeout_s)})["QueueUrl"]
    boto3.client("ses").verify_email_identity(EmailAddress=settings.digest_from_email)
    boto3.client("ses").verify_email_identity(EmailAddress=settings.mail_from_email)
    mail_url = sqs.create_queue(QueueName=MAIL_QUEUE + suffix,
                                Attributes={"VisibilityTimeout": str(visibility_timeout_s)})["QueueUrl"]
    env = {"DIGEST_QUEUE_URL": queue_url, "DIGEST_DLQ_URL": dlq_url, "MAIL_QUEUE_URL": mail_url}
    os.environ.update(env)
    reset_settings()
    return env


def ensure_avatar_bucket() -> str:
    """The avatar bucket, private, with the upload CORS rules for the allowed origins; returns its name."""
    import boto3

    settings = get_settings()
    s3 = boto3.client("s3")
    if settings.avatar_bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=settings.avatar_bucket)
    s3.put_bucket_cors(Bucket=settings.avatar_bucket, CORSConfiguration=avatar_bucket_cors(settings.origins))
    s3.put_bucket_lifecycle_configuration(Bucket=settings.avatar_bucket, LifecycleConfiguration=handoff_lifecycle())
    return settings.avatar_bucket


def queue_arn(queue_url: str) -> str:
    import boto3

    attrs = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attrs["Attributes"]["QueueArn"]


def scheduler_event(at: datetime) -> dict[str, Any]:
    """What EventBridge Scheduler delivers to a Lambda target without an Input (``detail`` is a string)."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.scheduler",
        "account": "123456789012", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
        "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/atribuo-digest-hourly"],
        "detail": "{}",
    }


def sqs_event(messages: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    """A Lambda SQS event from ``receive_message`` output (as the event source mapping builds it)."""
    region = arn.split(":")[3]
    records = []
    for msg in messages:
        attrs = msg.get("Attributes") or {}
        records.append({
            "messageId": msg["MessageId"], "receiptHandle": msg["ReceiptHandle"], "body": msg["Body"],
            "attributes": {
                "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attrs.get("SentTimestamp", str(int(time.time() * 1000))),
                "SenderId": attrs.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
                "ApproximateFirstReceiveTimestamp": attrs.get("ApproximateFirstReceiveTimestamp",
                                                              str(int(time.time() * 1000))),
            },
            "messageAttributes": {}, "md5OfBody": msg.get("MD5OfBody") or hashlib.md5(  # noqa: S324 - SQS's own
                msg["Body"].encode()).hexdigest(),
            "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": region,
        })
    return {"Records": records}


def receive(queue_url: str, max_messages: int = 10, wait_s: int = 0) -> list[dict[str, Any]]:
    import boto3

    return boto3.client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_s,
        AttributeNames=["All"]).get("Messages", [])


def delete_handled(queue_url: str, messages: list[dict[str, Any]], response: dict[str, Any]) -> None:
    """What the event source mapping does: delete every record not in ``batchItemFailures``."""
    import boto3

    failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
               for i, m in enumerate(messages) if m["MessageId"] not in failed]
    if entries:
        boto3.client("sqs").delete_message_batch(QueueUrl=queue_url, Entries=entries)


def readable(body: str) -> tuple[str, list[str]]:
    """An email body (moto keeps the HTML part when there is one) as plain text, and its links."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.text: list[str] = []
            self.links: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("style", "script", "head"):
                self.skip += 1
            if tag == "a":
                self.links += [v for k, v in attrs if k == "href" and v]
            if tag in ("p", "br", "tr", "li", "h1", "h2", "h3", "div"):
                self.text.append("\n")

        def handle_endtag(self, tag: str) -> None:
            if tag in ("style", "script", "head"):
                self.skip = max(0, self.skip - 1)

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.text.append(data)

    reader = Reader()
    reader.feed(body)
    lines = (" ".join(line.split()) for line in "".join(reader.text).splitlines())
    text = "\n".join(line for line in lines if line)
    return text, reader.links


def sent_emails(moto_url: str | None = None) -> list[dict[str, Any]]:
    """Every email moto's SES accepted: ``[{"id", "source", "destinations", "subject", "body"}]``.

    Raw MIME mails (what ``shared.mail`` sends through SES v2) are parsed into the same shape, plus
    ``html`` (the HTML alternative) and ``headers`` (every header, names lower-cased).
    """
    import httpx

    base = moto_url or os.environ["AWS_ENDPOINT_URL"]
    data = httpx.get(f"{base.rstrip('/')}/moto-api/data.json", timeout=10).json()
    ses = data.get("ses", {})
    return [*ses.get("Message", []), *(_parse_raw(m) for m in ses.get("RawMessage", []))]


def _parse_raw(stored: dict[str, Any]) -> dict[str, Any]:
    from email import policy
    from email.parser import Parser

    message = Parser(policy=policy.default).parsestr(stored["raw_data"])
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    return {"id": stored["id"], "source": stored.get("source"), "destinations": {"ToAddresses": [str(message["To"])]},
            "subject": str(message["Subject"]), "body": text.get_content() if text else "",
            "html": html.get_content() if html else "", "headers": {k.lower(): str(v) for k, v in message.items()}}
