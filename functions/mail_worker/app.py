"""Mail worker: consumes the mail queue (password-reset requests), one mail per record, partial failures.

``POST /auth/password/forgot`` only enqueues the typed address, so its answer and timing are the same
whether or not an account uses it; this function looks the account up and mails the link. A record
whose mail could not be sent is reported in ``batchItemFailures`` and redelivered (then the DLQ).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.core.deadline import bounded
from shared.core.observability import logger, observed
from shared.identity import recovery

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> bool:
    return recovery.handle_mail_message(record.body)


@observed  # ColdStart, and metrics flushed once per invocation
@bounded  # outbound calls fit in the invocation (shared.core.deadline)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
