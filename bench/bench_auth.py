"""Auth costs, side by side: argon2id at the configured parameters vs. RS256 token issue/verify.

Rows: argon2 hash and verify (ms), access-token issue and verify (µs), and warm requests through
the real auth handler (GET /auth/me = verify + one SELECT; POST /auth/refresh = one rate-limit EVAL
+ one SQL statement + an RS256 signature). The handler rows need the local stack's environment
(DATABASE_URL, Upstash, JWT_KEYS); without it they are skipped and the crypto rows still run.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable


def _median_s(work: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _crypto_rows() -> list[tuple[str, str]]:
    from shared.identity import passwords
    from shared.identity.tokens import issue_access_token, verify_access_token

    stored = passwords.hash_password("bench passphrase 1")
    hash_s = _median_s(lambda: passwords.hash_password("bench passphrase 1"), 10)
    verify_pw_s = _median_s(lambda: passwords.verify_password(stored, "bench passphrase 1"), 10)
    user_id = uuid.uuid4()
    token, _ = issue_access_token(user_id)
    issue_s = _median_s(lambda: issue_access_token(user_id), 300)
    verify_s = _median_s(lambda: verify_access_token(token), 2000)
    fresh = iter([issue_access_token(user_id)[0] for _ in range(300)])
    first_sight_s = _median_s(lambda: verify_access_token(next(fresh)), 300)
    before_s = _median_s(lambda: _verify_as_before(token), 300)
    params = f"m={passwords.MEMORY_KIB // 1024} MiB, t={passwords.TIME_COST}, p={passwords.PARALLELISM}"
    return [
        (f"argon2id hash ({params})", f"{hash_s * 1e3:.1f} ms"),
        ("argon2id verify", f"{verify_pw_s * 1e3:.1f} ms"),
        ("access token issue (RS256 sign)", f"{issue_s * 1e6:.0f} µs"),
        ("access token verify, a repeated token (per-container cache)", f"{verify_s * 1e6:.1f} µs"),
        ("access token verify, first sight (RS256, pinned, parsed once)", f"{first_sight_s * 1e6:.0f} µs"),
        ("access token verify as before issue 14 (header + decode, no cache)", f"{before_s * 1e6:.0f} µs"),
        ("argon2 hash / first-sight token verify", f"{hash_s / first_sight_s:.0f}x"),
    ]


def _verify_as_before(token: str) -> object:
    """The verification every request paid before issue 14 (PyJWT parsing the token twice, no cache)."""
    import jwt

    from shared.core.settings import get_settings
    from shared.identity import keys
    from shared.identity.tokens import ALGORITHMS, REQUIRED_CLAIMS

    settings = get_settings()
    key = keys.public_key(str(jwt.get_unverified_header(token).get("kid", "")))
    return jwt.decode(token, key, algorithms=ALGORITHMS, audience=settings.jwt_audience, issuer=settings.jwt_issuer,
                      leeway=settings.jwt_leeway_s, options={"require": REQUIRED_CLAIMS})


def _handler_rows() -> list[tuple[str, str]]:
    from functions.auth.app import handler
    from local.lambda_context import LambdaContext
    from shared.clients import db
    from shared.identity import passwords, sessions
    from shared.repositories.users import create_user

    name = f"bench_{uuid.uuid4().hex[:12]}"
    conn = db.get_conn()
    user = create_user(conn, username=name, email=f"{name}@bench.local",
                       password_hash=passwords.hash_password("bench passphrase 1"))
    try:
        pair = sessions.start(conn, user["id"])
        me = _event("GET", "/api/v1/auth/me", headers={"authorization": f"Bearer {pair.access_token}"})
        context = LambdaContext(function_name="bench")
        me_s = _median_s(lambda: handler(me, context), 200)
        token = [pair.refresh_token]

        def refresh() -> None:
            import json

            result = handler(_event("POST", "/api/v1/auth/refresh", body={"refresh_token": token[0]}), context)
            token[0] = json.loads(result["body"])["refresh_token"]

        refresh_s = _median_s(refresh, 40)  # under the per-IP limit, each from a fresh IP
    finally:
        conn.execute("DELETE FROM users WHERE id = %s", (user["id"],))
    return [("GET /auth/me warm (verify + 1 SELECT)", f"{me_s * 1e3:.2f} ms"),
            ("POST /auth/refresh warm (1 EVAL + 1 SQL + sign)", f"{refresh_s * 1e3:.2f} ms")]


def _oauth_rows() -> list[tuple[str, str]]:
    """Issue 16: sign-in with "google" against the local OpenID provider (``make dev``'s): the start
    (Authlib URL + one Redis SET) and the callback (GETDEL, code exchange, ID-token check against the
    cached JWKS, one transaction, RS256 signing). The provider runs in this process, so its own work
    (an RS256 ID token per code) is in the callback figure; the browser's steps are not timed."""
    import json
    from urllib.parse import parse_qs, urlsplit

    import httpx

    from functions.auth.app import handler
    from local.lambda_context import LambdaContext

    base = json.loads(os.environ["OAUTH_PROVIDERS"])["google"]["authorize_url"].rsplit("/oauth2/", 1)[0]
    sub = f"bench-{uuid.uuid4().hex[:12]}"
    httpx.put(f"{base}/users/{sub}", json={"email": f"{sub}@bench.local", "email_verified": True,
                                           "preferred_username": sub.replace("-", "_")}).raise_for_status()
    context = LambdaContext(function_name="bench")
    starts, callbacks = [], []
    for _ in range(25):
        began = time.perf_counter()
        started = json.loads(handler(_event("GET", "/api/v1/auth/oauth/google/start"), context)["body"])
        starts.append(time.perf_counter() - began)
        url = started["authorization_url"]
        redirect = httpx.post(url, data={"sub": sub}).headers["location"]  # the browser's form post
        params = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
        began = time.perf_counter()
        result = handler(_event("POST", "/api/v1/auth/oauth/google/callback", body=params), context)
        callbacks.append(time.perf_counter() - began)
        assert result["statusCode"] == 200, result["body"]
    return [("GET /auth/oauth/google/start warm (URL + 1 SET)", f"{statistics.median(starts[3:]) * 1e3:.2f} ms"),
            ("POST /auth/oauth/google/callback warm (exchange + verify + sign)",
             f"{statistics.median(callbacks[3:]) * 1e3:.1f} ms")]


def _event(method: str, path: str, body: object = None, headers: dict | None = None) -> dict:
    import json

    ip = f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    raw = json.dumps(body) if body is not None else None
    all_headers = {"content-type": "application/json", **(headers or {})} if raw else dict(headers or {})
    return {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
        "headers": all_headers, "body": raw, "isBase64Encoded": False,
        "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": ip,
                                    "userAgent": "bench"}, "requestId": uuid.uuid4().hex,
                           "routeKey": f"{method} {path}", "stage": "$default"},
    }


def run() -> list[tuple[str, str]]:
    if not (os.environ.get("JWT_KEYS") or os.environ.get("JWT_KEYS_SECRET")):
        from shared.identity.keys import generate_key_set

        os.environ["JWT_KEYS"] = generate_key_set(("bench",))
    rows = _crypto_rows()
    if os.environ.get("DATABASE_URL") and os.environ.get("UPSTASH_REDIS_REST_URL"):
        rows += _handler_rows()
        if os.environ.get("OAUTH_PROVIDERS"):
            rows += _oauth_rows()
    else:
        rows.append(("handler rows", "skipped (local stack environment not set)"))
    return rows


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:55} {value}")
