"""Digest worker: consumes the digest queue, one page of users per message, with partial failures.

A record that fails (SES error, malformed body) is reported in ``batchItemFailures``, so SQS
redelivers only that message; after the queue's maxReceiveCount it goes to the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.core.deadline import bounded
from shared.core.observability import logger, observed
from shared.digests import pipeline as digests

# All records failing is reported like any partial failure (each redelivered, then the DLQ), rather
# than raised: the outcome for SQS is the same and the invocation does not count as a crash.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> int:
    return digests.process_page(digests.parse_page(record.body))


@observed  # ColdStart, and metrics flushed once per invocation
@bounded  # outbound calls fit in the invocation (shared.core.deadline)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
