"""Digest planner: the hourly EventBridge Scheduler target that fans due users out to SQS."""

from __future__ import annotations

from typing import Any

from shared.core.deadline import bounded
from shared.core.observability import logger, observed
from shared.digests import pipeline as digests


@observed  # ColdStart, and metrics flushed once per invocation
@bounded  # outbound calls fit in the invocation (shared.core.deadline)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Plan the run for the event's scheduled hour; re-deliveries plan the same run."""
    result = digests.plan(digests.scheduled_hour(event))
    return {"scheduled_hour": result.scheduled_hour.isoformat(), "users": result.users,
            "messages": result.messages, "pages": result.pages}
