"""Mail feedback: SES bounce and complaint notifications, delivered by SNS, suppress addresses.

SNS retries a failed invocation, so an error (the database unreachable) is raised and the record
comes again; the suppression itself is idempotent.
"""

from __future__ import annotations

from typing import Any

from shared.core.deadline import bounded
from shared.core.observability import logger, observed
from shared.mail import feedback


@observed  # ColdStart, and metrics flushed once per invocation
@bounded  # outbound calls fit in the invocation (shared.core.deadline)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    suppressed = sum(feedback.handle(record["Sns"]["Message"]) for record in event.get("Records", [])
                     if record.get("EventSource") == "aws:sns")
    return {"suppressed": suppressed}
