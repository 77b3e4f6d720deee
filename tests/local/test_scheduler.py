"""The local digest loop: the "make digest" default hour and the SQS event shape it builds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local.aws_resources import scheduler_event, sqs_event
from local.scheduler import next_fire, next_monday_8
from tests.support import load_event


@pytest.mark.parametrize(("now", "expected"), [
    ("2025-02-17T07:10:00", "2025-02-17T08:00:00"),
    ("2025-02-17T08:30:00", "2025-02-17T08:00:00"),
    ("2025-02-17T09:00:00", "2025-02-24T08:00:00"),
    ("2025-02-20T16:03:00", "2025-02-24T08:00:00"),
    ("2025-02-23T23:59:00", "2025-02-24T08:00:00"),
])
def test_next_monday_8(now, expected):
    got = next_monday_8(datetime.fromisoformat(now).replace(tzinfo=UTC))
    assert got == datetime.fromisoformat(expected).replace(tzinfo=UTC)


def test_scheduler_event_has_the_aws_shape():
    reference = load_event("event-scheduled-digest")  # AWS's documented EventBridge Scheduler shape
    event = scheduler_event(datetime(2025, 2, 17, 8, tzinfo=UTC))
    assert set(event) == set(reference) and event["time"] == "2025-02-17T08:00:00Z"
    assert event["detail"] == "{}"


def test_sqs_event_has_the_shape_of_the_sample():
    sample = load_event("event-sqs-digest")["Records"][0]
    message = {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}", "MD5OfBody": "x", "Attributes": {}}
    [record] = sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:q")["Records"]
    assert set(record) == set(sample) and set(record["attributes"]) == set(sample["attributes"])
    assert record["eventSource"] == "aws:sqs" and record["awsRegion"] == "us-east-1"


@pytest.mark.parametrize(("expression", "now", "expected"), [
    ("cron(0 * * * ? *)", "2025-02-17T07:10:00", "2025-02-17T08:00:00"),
    ("cron(0 * * * ? *)", "2025-02-17T08:00:00", "2025-02-17T09:00:00"),
    ("cron(30 3 * * ? *)", "2025-02-17T03:29:59", "2025-02-17T03:30:00"),
    ("cron(30 3 * * ? *)", "2025-02-17T03:30:00", "2025-02-18T03:30:00"),
    ("cron(30 3 * * ? *)", "2025-02-28T22:00:00", "2025-03-01T03:30:00"),
])
def test_next_fire_of_the_template_schedules(expression, now, expected):
    at = next_fire(expression, datetime.fromisoformat(now).replace(tzinfo=UTC))
    assert at == datetime.fromisoformat(expected).replace(tzinfo=UTC)


def test_next_fire_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="hourly/daily"):
        next_fire("rate(5 minutes)", datetime(2025, 2, 17, tzinfo=UTC))
