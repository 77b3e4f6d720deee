"""SES feedback (issue 15): bounces and complaints that SES publishes to SNS mark addresses suppressed.

Both SES forms are read: identity notifications (``notificationType``) and configuration-set event
publishing (``eventType``). Only permanent bounces suppress (a full mailbox or a greylisting server
is transient); every complaint does. Suppression is keyed on the lower-cased address and inserted
with ON CONFLICT DO NOTHING, so a notification SNS delivers twice suppresses once. Every sender
checks the table (``repositories.account_tokens``, the digest queries): nothing is ever sent there.
"""

from __future__ import annotations

import json
from typing import Any

from shared.clients import db
from shared.core.observability import logger
from shared.repositories import account_tokens


def suppressions(message: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(address, reason, feedback id) for each recipient a notification says must never get mail again."""
    kind = message.get("notificationType") or message.get("eventType")
    if kind == "Bounce":
        bounce = message.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return []
        recipients, reason, feedback = bounce.get("bouncedRecipients"), "bounce", bounce.get("feedbackId")
    elif kind == "Complaint":
        complaint = message.get("complaint") or {}
        recipients, reason = complaint.get("complainedRecipients"), "complaint"
        feedback = complaint.get("feedbackId")
    else:
        return []
    return [(str(r["emailAddress"]).lower(), reason, feedback)
            for r in recipients or [] if isinstance(r, dict) and r.get("emailAddress")]


def handle(sns_message: str) -> int:
    """One SNS record's ``Message``; how many addresses were newly suppressed."""
    try:
        message = json.loads(sns_message)
    except ValueError:
        logger.warning("SES feedback that is not JSON dropped")
        return 0
    found = suppressions(message) if isinstance(message, dict) else []
    newly = sum(db.run(lambda conn, a=address, r=reason, f=feedback:
                       account_tokens.suppress(conn, email=a, reason=r, feedback_id=f))
                for address, reason, feedback in found)
    logger.info("SES feedback", extra={"kind": message.get("notificationType") or message.get("eventType"),
                                       "recipients": len(found), "newly_suppressed": newly})
    return newly
