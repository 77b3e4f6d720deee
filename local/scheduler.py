"""The digest pipeline on the local stack: an "EventBridge Scheduler" and an "SQS trigger".

``start_digests(invoker, state_dir)`` (used by ``make dev``) runs daemon threads: one per
``ScheduleV2`` event in template.yaml (the hourly digest planner, the daily maintenance), invoking
the function at each time its cron expression names with a real scheduler event; one long-polls moto's SQS and
invokes the worker with a real SQS event, deleting what the worker did not report as failed (as
the event source mapping does). ``python -m local.scheduler digest`` (``make digest``) plans a run
now against the running ``make dev``; ``python -m local.scheduler emails`` (``make emails``) lists
what moto's SES "sent".
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local import aws_resources as res
from local import console
from local.template import schedules, timeout_of

PLANNER = "functions.digest_planner.app"
WORKER = "functions.digest_worker.app"
MAIL_WORKER = "functions.mail_worker.app"  # issue 15: the mail queue's consumer
ENV_FILE = "digest-env.json"
ROOT = Path(__file__).resolve().parent.parent


class DigestLoop:
    """The two threads; ``stop()`` ends them."""

    def __init__(self, invoker: Any, queue_url: str, mail_queue_url: str | None = None) -> None:
        self.invoker, self.queue_url = invoker, queue_url
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._scheduled, args=(module, expression), daemon=True,
                                         name=f"scheduler-{module.split('.')[1]}")
                        for module, expression in schedules().items()]
        queues = {queue_url: WORKER, **({mail_queue_url: MAIL_WORKER} if mail_queue_url else {})}
        self.threads += [threading.Thread(target=self._poll, args=(url, worker), daemon=True,
                                          name=f"{worker.split('.')[1]}-sqs-poller") for url, worker in queues.items()]

    def start(self) -> DigestLoop:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def _scheduled(self, module: str, expression: str) -> None:
        while True:
            now = datetime.now(UTC)
            at = next_fire(expression, now)
            if self.stopped.wait((at - now).total_seconds()):
                return
            self._run(module, res.scheduler_event(at))

    def _poll(self, queue_url: str, worker: str) -> None:
        arn = res.queue_arn(queue_url)
        while not self.stopped.is_set():
            try:
                messages = res.receive(queue_url, wait_s=1)
            except Exception as exc:  # moto gone while stopping
                print(f"{worker} poller: {exc}", file=sys.stderr)
                self.stopped.wait(1)
                continue
            if messages:
                response = self._run(worker, res.sqs_event(messages, arn))
                res.delete_handled(queue_url, messages, response)

    def _run(self, module: str, event: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            result = self.invoker.submit(module, event, module.split(".")[1]).result()
        except Exception as exc:  # a crashed invocation: SQS will redeliver, the scheduler retries
            print(f"{module} failed: {exc!r}", file=sys.stderr)
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event.get("Records", [])]}
        console.run(module, result, (time.perf_counter() - started) * 1000)
        return result if isinstance(result, dict) else {}


def start_digests(invoker: Any, state_dir: Path, api_url: str) -> DigestLoop:
    """Create the resources, remember how to reach them (for ``make digest``), start the threads.

    Locally, unsubscribe links point at this gateway, and avatar URLs at its stand-in for the CDN
    (``/avatars-cdn/``, served from the private bucket as CloudFront would).
    """
    from local.http_gateway import CDN_PREFIX

    os.environ.setdefault("PUBLIC_API_URL", api_url)
    os.environ.setdefault("AVATAR_PUBLIC_BASE_URL", f"{api_url}{CDN_PREFIX}")
    env = invoker.call(res.ensure_resources).result()
    keep = ("DATABASE_URL", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION", "AWS_REGION", "DIGEST_SIGNING_SECRET", "PUBLIC_API_URL")
    saved = {**{k: os.environ[k] for k in keep if k in os.environ}, **env}
    path = state_dir / ENV_FILE
    path.write_text(json.dumps(saved))
    path.chmod(0o600)
    return DigestLoop(invoker, env["DIGEST_QUEUE_URL"], env.get("MAIL_QUEUE_URL")).start()


CRON = re.compile(r"cron\((\d+) (\d+|\*) \* \* \? \*\)")


def next_fire(expression: str, now: datetime) -> datetime:
    """The first time after ``now`` (UTC) that ``cron(M H * * ? *)`` or ``cron(M * * * ? *)`` names.

    Only the hourly and daily forms the template uses; anything else is refused, not guessed.
    """
    found = CRON.fullmatch(expression.strip())
    if not found:
        raise ValueError(f"the local scheduler only runs hourly/daily cron expressions, not {expression!r}")
    minute, hour = int(found[1]), found[2]
    at = now.astimezone(UTC).replace(minute=minute, second=0, microsecond=0)
    if hour == "*":
        return at if at > now else at + timedelta(hours=1)
    at = at.replace(hour=int(hour))
    return at if at > now else at + timedelta(days=1)


def next_monday_8(now: datetime) -> datetime:
    """The coming Monday 08:00 UTC (this one until 09:00): a run whose 7-day window includes today."""
    now = now.astimezone(UTC)
    monday = now.replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=-now.weekday() % 7)
    return monday if monday + timedelta(hours=1) > now else monday + timedelta(days=7)


def _load_dev_env() -> None:
    path = ROOT / ".local" / ENV_FILE
    if not path.exists():
        sys.exit("start `make dev` first (it creates the queue and writes .local/digest-env.json)")
    os.environ.update(json.loads(path.read_text()))


def digest_now() -> None:
    """Invoke the planner once for DIGEST_AT (default: the coming Monday 08:00 UTC)."""
    _load_dev_env()
    at = os.environ.get("DIGEST_AT")
    when = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else next_monday_8(datetime.now(UTC))
    from functions.digest_planner.app import handler
    from local.lambda_context import LambdaContext

    print(handler(res.scheduler_event(when), LambdaContext(function_name="digest_planner",
                                                           timeout_s=timeout_of("functions.digest_planner.app"))))
    print("make dev's SQS poller hands the messages to the worker; `make emails` lists what was sent")


def maintenance_now() -> None:
    """Run the daily maintenance once against the running ``make dev``'s database."""
    _load_dev_env()
    from functions.maintenance.app import handler
    from local.lambda_context import LambdaContext

    print(handler(res.scheduler_event(datetime.now(UTC)), LambdaContext(function_name="maintenance", timeout_s=300)))


def list_emails(state_dir: Path = ROOT / ".local") -> None:
    """Each mail moto's SES "sent": its addresses, its text and its links; ``EMAILS_HTML=folder``
    also writes each one's HTML there, to open in a browser."""
    _load_dev_env()
    from local.aws_state import saved_mail

    live = res.sent_emails()
    mails = [*(m for m in saved_mail(state_dir) if m["id"] not in {x["id"] for x in live}), *live]
    folder = Path(os.environ["EMAILS_HTML"]) if os.environ.get("EMAILS_HTML") else None
    print(f"{len(mails)} email(s) sent (kept in .local/ across restarts of make dev)")
    for mail in mails:
        to = ", ".join(mail.get("destinations", {}).get("ToAddresses", []))
        text, links = res.readable(mail.get("body") or "")
        print(f"\n── {mail.get('id')}  from={mail.get('source')}  to={to}  subject={mail.get('subject')!r}")
        print(text)
        for link in links:
            print(f"  link: {link}")
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{mail.get('id')}.html").write_text(mail.get("body") or "")
    if folder is not None and mails:
        print(f"\nHTML written to {folder}/")

if __name__ == "__main__":
    COMMANDS = {"digest": digest_now, "emails": list_emails, "maintenance": maintenance_now}
    COMMANDS[sys.argv[1] if len(sys.argv) > 1 else "digest"]()
