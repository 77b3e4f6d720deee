"""Accounts (issue 15), side by side in one run.

* ``POST /auth/password/forgot`` for an address that has an account and for one that has not,
  interleaved request by request (each from its own IP and address, so no throttle is reached), as
  medians and their ratio: the answer must not tell them apart by its timing either. The HTTP half
  never looks the address up (it throttles and enqueues the same message); the mail worker does,
  off the request path, so that work cannot show in the answer's timing.
* The User-Agent parser (ua-parser, lazily imported on the first sign-in): import, first parse and a
  warm parse, in a fresh interpreter, next to the whole sign-in they are part of.

Needs the local stack's environment (DATABASE_URL, Upstash, moto); without it the rows are skipped.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid

ROUNDS = 60

UA_PROBE = """
import json, time
t0 = time.perf_counter()
from shared.identity import sessions
t1 = time.perf_counter()
sessions.device_name("Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0")
t2 = time.perf_counter()
sessions.device_name("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/124.0 Safari/537.36 Edg/124.0")
t3 = time.perf_counter()
warm = []
for v in range(100, 160):  # distinct strings: past device_name's own cache, through the parser
    began = time.perf_counter()
    sessions.device_name(f"Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0")
    warm.append(time.perf_counter() - began)
warm.sort()
print(json.dumps({"import_sessions": t1 - t0, "first": t2 - t1, "second": t3 - t2, "warm": warm[len(warm) // 2]}))
"""


def _forgot_rows() -> list[tuple[str, str]]:
    from bench.bench_auth import _event
    from functions.auth.app import handler
    from local.aws_resources import ensure_resources
    from local.lambda_context import LambdaContext
    from shared.clients import db
    from shared.repositories.users import create_user

    if not os.environ.get("MAIL_QUEUE_URL"):
        ensure_resources(suffix=f"-bench-{uuid.uuid4().hex[:6]}")
    run = uuid.uuid4().hex[:8]
    conn = db.get_conn()
    ids = [create_user(conn, username=f"bf_{run}_{i}", email=f"known{i}.{run}@bench.local",
                       password_hash="!unusable")["id"] for i in range(ROUNDS)]  # noqa: S106 - cannot log in
    context = LambdaContext(function_name="bench")
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    bodies: set[tuple[int, str]] = set()

    def ask(kind: str, i: int) -> None:
        event = _event("POST", "/api/v1/auth/password/forgot", body={"email": f"{kind}{i}.{run}@bench.local"})
        began = time.perf_counter()
        result = handler(event, context)
        timings[kind].append(time.perf_counter() - began)
        bodies.add((result["statusCode"], result["body"]))

    try:
        for i in range(ROUNDS):  # interleaved, alternating who goes first
            for kind in (("known", "unknown") if i % 2 else ("unknown", "known")):
                ask(kind, i)
    finally:
        conn.execute("DELETE FROM users WHERE id = ANY(%s)", (ids,))
    known, unknown = (statistics.median(timings[k][5:]) for k in ("known", "unknown"))
    return [
        (f"POST /auth/password/forgot, known address (median of {ROUNDS - 5})", f"{known * 1e3:.2f} ms"),
        (f"POST /auth/password/forgot, unknown address (median of {ROUNDS - 5})", f"{unknown * 1e3:.2f} ms"),
        ("forgot known / unknown", f"{known / unknown:.3f}x"),
        ("distinct (status, body) answers over both", str(len(bodies)) + ("" if len(bodies) == 1 else " (NOT SAME)")),
    ]


def _export_rows() -> list[tuple[str, str]]:
    """POST /me/export's work for a large account (18 000 level changes with 500-character notes,
    about 10 MB): the estimate GET /me/export decides by, and the streamed multipart upload to the
    bucket, against the time one auth invocation has (10 s)."""
    from local.aws_resources import ensure_avatar_bucket
    from shared.clients import db
    from shared.identity import portability
    from shared.repositories.users import create_user

    ensure_avatar_bucket()
    conn = db.get_conn()
    name = f"bx_{uuid.uuid4().hex[:10]}"
    user = create_user(conn, username=name, email=f"{name}@bench.local", password_hash="!unusable")  # noqa: S106
    try:
        conn.execute("INSERT INTO skills (owner_id, name, category, level) VALUES (%s, 'Piano', 'music', 1)",
                     (user["id"],))
        conn.execute("INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, note)"
                     " SELECT s.id, s.owner_id, 1 + n %% 9, 1 + (n + 1) %% 9, repeat('n', 500)"
                     " FROM skills s, generate_series(1, 18000) n WHERE s.owner_id = %s", (user["id"],))
        began = time.perf_counter()
        inline = portability.inline_fits(user["id"])
        estimate_s = time.perf_counter() - began
        began = time.perf_counter()
        link = portability.export_to_storage(user["id"], "json")
        export_s = time.perf_counter() - began
    finally:
        conn.execute("DELETE FROM users WHERE id = %s", (user["id"],))
    return [
        ("export size estimate (1 statement; decides inline vs 303)", f"{estimate_s * 1e3:.1f} ms (inline: {inline})"),
        (f"POST /me/export work, {link.bytes / 1e6:.1f} MB multipart to the bucket", f"{export_s:.2f} s"),
        ("export throughput", f"{link.bytes / 1e6 / export_s:.1f} MB/s (auth invocation: 10 s)"),
    ]


def _ua_rows() -> list[tuple[str, str]]:
    from local.template import ROOT

    runs = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", UA_PROBE], capture_output=True, text=True, cwd=ROOT, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    first = statistics.median(r["first"] for r in runs)
    second = statistics.median(r["second"] for r in runs)
    warm = statistics.median(r["warm"] for r in runs)
    return [
        ("device name, first in a container (import ua-parser + lazy rules + parse)", f"{first * 1e3:.1f} ms"),
        ("device name, a second kind of User-Agent (compiles the rules it reaches)", f"{second * 1e3:.2f} ms"),
        ("device name, warm (median of 60 distinct User-Agents)", f"{warm * 1e3:.3f} ms"),
        ("first / warm", f"{first / warm:.0f}x"),
    ]


def run() -> list[tuple[str, str]]:
    rows = _ua_rows()
    if os.environ.get("DATABASE_URL") and os.environ.get("UPSTASH_REDIS_REST_URL"):
        rows = _forgot_rows() + _export_rows() + rows
    else:
        rows.append(("forgot-password rows", "skipped (local stack environment not set)"))
    return rows


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:70} {value}")
