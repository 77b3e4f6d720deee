"""Maintenance: the daily EventBridge Scheduler target that deletes data nothing needs any more."""

from __future__ import annotations

from typing import Any

from shared.core.deadline import bounded
from shared.core.observability import logger, observed
from shared.ops import maintenance


@observed  # ColdStart, and metrics flushed once per invocation
@bounded  # outbound calls fit in the invocation (shared.core.deadline)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run every purge until done or near the timeout; a re-delivery (or the next day) carries on."""
    result = maintenance.run(context.get_remaining_time_in_millis)
    logger.info("maintenance run", extra={"scheduled_time": event.get("time"), **result})
    return result
