"""Issue 17's costs: drawing card.png, people search, and the growth series.

Rows: resvg's first import and first render in a fresh interpreter (what a cold profiles container
pays on its first card.png), a warm render of card.png and its size, then warm requests through the
real profiles handler against the local stack: card.png from Redis, GET /users?q= (prefix and fuzzy)
over BENCH_SEARCH_USERS public users, and a 52-week /me/stats/series over a user with a year of history.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.bench_auth import _median_s  # one way to take a median of timed runs
from local.template import ROOT

_IPS = itertools.count()
USERS = int(os.environ.get("BENCH_SEARCH_USERS", "20000"))
COLD_PROBE = """
import time
started = time.perf_counter()
from shared.public.card import render_card
from shared.public.character import build_stats
from shared.public.png import render_png
import resvg_py
imported = time.perf_counter()
render_png(render_card({"username": "bench", "display_name": "Bench"}, build_stats([])))
print(imported - started, time.perf_counter() - imported)
"""


def _render_rows() -> list[tuple[str, str]]:
    from shared.public.card import render_card
    from shared.public.character import aggregate, build_stats
    from shared.public.png import render_png

    done = subprocess.run([sys.executable, "-c", COLD_PROBE], capture_output=True, text=True, cwd=ROOT, check=True)
    imported_s, first_s = (float(v) for v in done.stdout.split())
    skills = [{"category": c, "level": 1 + i % 10} for i, c in enumerate(["programming", "music", "mind", "art"] * 3)]
    svg = render_card({"username": "bench_user", "display_name": "A rather long display name indeed"},
                      build_stats(aggregate(skills)))
    png = render_png(svg)
    warm_s = _median_s(lambda: render_png(svg), 15)
    return [
        ("card.png cold: import resvg + card modules", f"{imported_s * 1e3:.1f} ms"),
        ("card.png cold: first render (fonts loaded)", f"{first_s * 1e3:.1f} ms"),
        ("card.png warm render (1200x630)", f"{warm_s * 1e3:.1f} ms"),
        ("card.png size", f"{len(png) / 1024:.0f} KiB (SVG {len(svg.encode()) / 1024:.1f} KiB)"),
    ]


def _call(handler: Any, method: str, path: str, headers: dict | None = None, query: dict | None = None) -> dict:
    from urllib.parse import urlencode

    from local.http_event import build_http_event
    from local.lambda_context import LambdaContext

    ip = f"198.51.100.{next(_IPS) % 250 + 1}"  # a new caller each time: under the search throttle
    event = build_http_event(method=method, path=path, route_key=f"{method} {path}", raw_query=urlencode(query or {}),
                             headers=list((headers or {}).items()), source_ip=ip)
    result = handler(event, LambdaContext(function_name="bench"))
    assert result["statusCode"] == 200, result
    return result


def _handler_rows() -> list[tuple[str, str]]:
    from functions.profiles.app import handler
    from shared.clients import db
    from shared.identity.tokens import issue_access_token

    conn = db.get_conn()
    tag = uuid.uuid4().hex[:6]
    # Names made of syllables picked by hash ("Karito Melan", "kariton_4711"): many share a first letter
    # or a syllable, as real names do; the search's first letters are its most common trigrams.
    conn.execute("""
        WITH syl AS (SELECT ARRAY['ka','ri','to','me','lan','sa','di','ro','na','vi','el','jo','an','us','ti','po',
                                  'mar','ce','lu','be','der','is','ko','ha','nu','fe','gor','ya','wen','ol'] AS s),
        n AS (SELECT g, (SELECT string_agg(syl.s[1 + get_byte(decode(md5(g || ':' || i), 'hex'), 0) %% 30], '')
                         FROM generate_series(1, 2 + g %% 3) AS i) AS first,
                        (SELECT string_agg(syl.s[1 + get_byte(decode(md5(g || '/' || i), 'hex'), 0) %% 30], '')
                         FROM generate_series(1, 2 + g %% 2) AS i) AS last
              FROM generate_series(1, %(n)s) AS g, syl)
        INSERT INTO users (username, email, password_hash, display_name)
        SELECT left(first || last, 20) || '_' || g, g || '@' || %(tag)s || '.bench.local', '!unusable',
               initcap(first) || ' ' || initcap(last)
        FROM n""", {"tag": tag, "n": USERS})
    me = conn.execute("SELECT id, username, display_name FROM users WHERE email = %s",
                      (f"1@{tag}.bench.local",)).fetchone()
    conn.execute("""
        WITH s AS (INSERT INTO skills (owner_id, name, category, level)
                   SELECT %(me)s, 'skill ' || c, c, 1 FROM unnest(%(cats)s::text[]) AS c RETURNING id)
        INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, created_at)
        SELECT s.id, %(me)s, NULL, 1 + g %% 10, now() - (g || ' hours')::interval FROM s, generate_series(1, 876) AS g
    """, {"me": me["id"], "cats": ["programming", "music", "mind", "art", "life"]})
    conn.execute("ANALYZE users")
    conn.execute("ANALYZE skill_progress")
    headers = {"authorization": f"Bearer {issue_access_token(me['id'])[0]}"}
    card = f"/api/v1/users/{me['username']}/card.png"
    typo = me["display_name"].split()[1][:-1] + "x"  # the last name, its last letter wrong
    prefix_hits = conn.execute("SELECT count(*) AS n FROM users WHERE lower(username) LIKE 'ka%%'"
                               " OR lower(display_name) LIKE 'ka%%'").fetchone()["n"]
    _call(handler, "GET", card)
    today = time.strftime("%Y-%m-%d")
    year_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 364 * 86400))
    rows = [
        ("card.png from Redis (warm handler)", _median_s(lambda: _call(handler, "GET", card), 30)),
        (f"GET /users?q=ka (prefix, {prefix_hits} of {USERS} users match)",
         _median_s(lambda: _call(handler, "GET", "/api/v1/users", query={"q": "ka"}), 30)),
        (f"GET /users?q={typo} (a typo of a display name, {USERS} users)",
         _median_s(lambda: _call(handler, "GET", "/api/v1/users", query={"q": typo}), 30)),
        ("GET /me/stats/series (52 weeks, 4380 history rows)",
         _median_s(lambda: _call(handler, "GET", "/api/v1/me/stats/series", headers,
                                 query={"from": year_ago, "to": today}), 30)),
        ("GET /me/stats?at=<half a year ago>",
         _median_s(lambda: _call(handler, "GET", "/api/v1/me/stats", headers,
                                 query={"at": time.strftime("%Y-%m-%d", time.gmtime(time.time() - 182 * 86400))}), 30)),
    ]
    conn.execute("DELETE FROM users WHERE email LIKE %s", (f"%@{tag}.bench.local",))
    return [(label, f"{seconds * 1e3:.2f} ms") for label, seconds in rows]


def run() -> list[tuple[str, str]]:
    rows = _render_rows()
    if not os.environ.get("DATABASE_URL"):
        return [*rows, ("handler rows", "skipped: no local stack (run through `make bench`)")]
    return rows + _handler_rows()


if __name__ == "__main__":
    print(json.dumps(run()))
