"""Migrate function: apply ``shared/ops/migrations`` on deploy (CloudFormation custom resource) or on demand.

A direct invocation returns the versions applied. As a custom resource it reports to CloudFormation
through the pre-signed ``ResponseURL``; a failure is reported as FAILED (with a short reason, never
a stack trace) so the deploy stops instead of running new code against an old schema.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from shared.clients import db
from shared.core.deadline import bounded
from shared.core.observability import logger, observed
from shared.ops.migrate import migrate


def _respond(event: dict[str, Any], context: Any, status: str, data: dict[str, Any], reason: str = "") -> None:
    body = json.dumps({
        "Status": status,
        "Reason": reason or f"see CloudWatch log stream {getattr(context, 'log_stream_name', '')}",
        "PhysicalResourceId": event.get("PhysicalResourceId") or "atribuo-migrations",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data,
    }).encode()
    if not event["ResponseURL"].startswith(("https://", "http://")):
        raise ValueError("ResponseURL must be an http(s) URL")
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",  # noqa: S310
                                     headers={"content-type": "", "content-length": str(len(body))})
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - CloudFormation's pre-signed URL
        pass


@observed  # ColdStart, and metrics flushed once per invocation
@bounded  # outbound calls fit in the invocation (shared.core.deadline)
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    is_custom_resource = "ResponseURL" in event
    if is_custom_resource and event.get("RequestType") == "Delete":
        _respond(event, context, "SUCCESS", {})  # never drop data because a stack goes away
        return {"applied": []}
    try:
        applied = migrate(db.get_conn())
    except Exception as exc:
        logger.exception("migration failed")
        if is_custom_resource:
            _respond(event, context, "FAILED", {}, reason=f"migration failed: {type(exc).__name__}")
            return {"applied": [], "error": type(exc).__name__}
        raise
    logger.info("migrations applied", extra={"applied": applied})
    if is_custom_resource:
        _respond(event, context, "SUCCESS", {"Applied": ",".join(applied)})
    return {"applied": applied}
