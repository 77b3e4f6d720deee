"""Weekly digests: the planner fans due users out to SQS; the worker turns a page into emails.

Delivery is at least once everywhere (the scheduler may fire twice, SQS may redeliver, Lambda may
retry), so nothing here relies on running once. The planner is a pure function of the event's
scheduled ``time`` (not the clock), so re-deliveries enqueue the same pages; the worker claims
(user, ISO week) in ``digest_sends`` before sending, so a page processed twice emails nobody twice.

Message shape (one SQS message per page of up to USERS_PER_MESSAGE users):
``{"v": 1, "user_ids": [...], "iso_year", "iso_week", "since", "until"}``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.clients import aws, db
from shared.core.observability import logger
from shared.core.settings import get_settings
from shared.digests import email as digest_email
from shared.digests import unsubscribe
from shared.mail import send as mail
from shared.models.digests import MAX_USERS_PER_MESSAGE, DigestPage
from shared.repositories import digests as repo

LOCAL_HOUR = 8  # digests go out on the user's local Monday, 08:00-08:59
USERS_PER_MESSAGE = MAX_USERS_PER_MESSAGE
SQS_BATCH = 10  # send_message_batch takes at most 10 entries
PLANNER_PAGE = USERS_PER_MESSAGE * SQS_BATCH  # one keyset page = one send_message_batch call
CLAIM_LEASE_S = 900  # longer than the worker's timeout: only a dead worker's claim is taken over
WINDOW = timedelta(days=7)


@dataclass
class PlanResult:
    scheduled_hour: datetime
    users: int = 0
    messages: int = 0
    pages: int = 0


def scheduled_hour(event: dict[str, Any]) -> datetime:
    """The hour the scheduler meant (its event ``time``), so every re-delivery plans the same run."""
    at = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def plan(at: datetime) -> PlanResult:
    """Enqueue every user due at ``at`` (local Monday 08:xx, not opted out, with activity)."""
    result = PlanResult(scheduled_hour=at)
    zones = db.run(lambda conn: repo.due_zones(conn, at, LOCAL_HOUR))
    if not zones:
        return result
    # Zones at the same local hour share the local date (their offsets differ by under an hour).
    iso = zones[0]["local_date"].isocalendar()
    names = [z["name"] for z in zones]
    since, after = at - WINDOW, None
    while True:
        rows = db.run(lambda conn, a=after: repo.due_users_page(
            conn, zones=names, after=a, since=since, until=at, limit=PLANNER_PAGE))
        if not rows:
            break
        ids = [row["id"] for row in rows]
        pages = [DigestPage(user_ids=ids[i:i + USERS_PER_MESSAGE], iso_year=iso.year, iso_week=iso.week,
                            since=since, until=at) for i in range(0, len(ids), USERS_PER_MESSAGE)]
        _enqueue(pages)
        result.users, result.messages, result.pages = result.users + len(ids), result.messages + len(pages), \
            result.pages + 1
        after = (rows[-1]["timezone"], rows[-1]["id"])
        if len(rows) < PLANNER_PAGE:
            break
    logger.info("digest run planned", extra={"hour": at.isoformat(), "users": result.users,
                                              "messages": result.messages})
    return result


def _enqueue(pages: list[DigestPage]) -> None:
    """Send up to 10 pages in one batch; entries SQS refused are retried once, then the run fails."""
    sqs, url = aws.client("sqs"), _queue_url()
    entries = [{"Id": str(i), "MessageBody": page.model_dump_json()} for i, page in enumerate(pages)]
    for _attempt in range(2):
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
        if not failed:
            return
        ids = {f["Id"] for f in failed}
        entries = [e for e in entries if e["Id"] in ids]
    raise RuntimeError(f"SQS refused {len(entries)} digest messages")


def _queue_url() -> str:
    url = get_settings().digest_queue_url
    if not url:
        raise RuntimeError("set DIGEST_QUEUE_URL")
    return url


def process_page(page: DigestPage) -> int:
    """Compute, claim and email one page of users; returns how many emails were sent.

    Two statements for the whole page (compute+claim, record). If any email fails, the sent ones
    are recorded, the unsent claims released, and the error raised so SQS redelivers the message.
    """
    week = {"iso_year": page.iso_year, "iso_week": page.iso_week}
    digests = db.run(lambda conn: repo.compute_and_claim(
        conn, user_ids=page.user_ids, since=page.since, until=page.until, lease_s=CLAIM_LEASE_S, **week))
    sent: list[tuple[uuid.UUID, str, dict[str, Any]]] = []
    failure: Exception | None = None
    for digest in digests:
        try:
            sent.append((digest["user_id"], send_digest(digest), _summary(digest)))
        except Exception as exc:  # one bad address must not lose the others' records
            failure = exc
            break
    db.run(lambda conn: repo.record_sent(conn, sent=sent, **week))
    if failure is not None:
        done = {user_id for user_id, _, _ in sent}
        unsent = [d["user_id"] for d in digests if d["user_id"] not in done]
        db.run(lambda conn: repo.release_unsent(conn, user_ids=unsent, **week))
        raise failure
    return len(sent)


def send_digest(digest: dict[str, Any]) -> str:
    """Email one digest through SES v2 (``shared.mail``); returns SES's message id.

    RFC 8058 one-click unsubscribe: ``List-Unsubscribe`` names the signed link and
    ``List-Unsubscribe-Post`` tells the mail client to POST ``List-Unsubscribe=One-Click`` to it
    (the link's GET only shows a confirmation page, since mail scanners follow links).
    """
    settings = get_settings()
    link = unsubscribe.unsubscribe_url(digest["user_id"])
    profile = f"{settings.public_app_url.rstrip('/')}/u/{digest['username']}"
    card = (f"{settings.public_api_url.rstrip('/')}/api/v1/users/{digest['username']}/card.png"
            if digest.get("public_profile") else None)
    email = digest_email.render_digest(digest, unsubscribe_url=link, profile_url=profile, card_url=card)
    headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return mail.send(email, to=digest["email"], sender=settings.digest_from_email, headers=headers)


def _summary(digest: dict[str, Any]) -> dict[str, Any]:
    return {"levelled_up": len(digest["levelled_up"]), "new_skills": len(digest["new_skills"]),
            "level_change": digest["level_change"], "goals_due": len(digest.get("goals_due") or []),
            "goals_reached": len(digest.get("goals_reached") or [])}


def parse_page(body: str) -> DigestPage:
    return DigestPage.model_validate(json.loads(body))
