"""The scale generator: N users x 8 skills x 5 history rows, ~90% public, in a few statements.

Used by ``make bench-scale`` (10k, 100k, 1M users) and by the plan tests (a few thousand). Every
value is a pure function of the row number (``hashint4``), so two runs build the same data. Rows are
produced by Postgres itself (``INSERT … SELECT generate_series``): at 1M users that is 8M skills and
40M history rows, which no client-side COPY stream could feed as fast, with the triggers and foreign
keys off for the load (``session_replication_role = replica``, superuser only: the embedded
Postgres) and the maintained scores rebuilt once at the end (``skill_scores_rebuild()``).

Shape: 60% of users in UTC and the rest spread over 24 zones (so the digest planner has a big zone
to page through), 10% private, 1% opted out of digests, every 500th user with a change log over the
compaction threshold, skills and history spread over the last 60 days (so about a ninth of the
history is in any digest week), and one sign-in of three refresh tokens per user (2% of sign-ins
revoked weeks ago, 2% of tokens long expired: what the maintenance purge looks for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

SKILLS_PER_USER = 8
HISTORY_PER_SKILL = 5
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
         "America/Mexico_City", "America/Toronto", "Europe/London", "Europe/Lisbon", "Europe/Paris",
         "Europe/Berlin", "Europe/Madrid", "Europe/Warsaw", "Europe/Athens", "Africa/Lagos", "Africa/Nairobi",
         "Asia/Kolkata", "Asia/Tokyo", "Asia/Shanghai", "Asia/Singapore", "Asia/Dubai", "Australia/Sydney",
         "Pacific/Auckland", "Asia/Jakarta")
CATEGORIES = ("programming", "languages", "music", "fitness", "art", "science", "craft", "social", "mind", "life")
OVER_THRESHOLD_EVERY = 500  # every 500th user has a log longer than the compaction keeps
LONG_LOG_VERSIONS = 1500

# (i) -> a non-negative pseudo-random int
R = "(hashint4({x}) & 2147483647)"

USERS = f"""
INSERT INTO users (id, username, email, password_hash, display_name, privacy_settings, timezone, digest_opt_out,
                   sync_version, created_at)
SELECT md5('u' || i)::uuid, 'user_' || i, 'user_' || i || '@example.com', 'x', 'User ' || i,
       CASE WHEN mod(i, 10) = 3 THEN '{{"profile_visibility": "private"}}' ELSE '{{"profile_visibility": "public"}}'
       END::jsonb,
       CASE WHEN mod({R.format(x='i')}, 100) < 60 THEN 'UTC'
            ELSE (%(zones)s::text[])[1 + mod({R.format(x='i + 7')}, %(zone_count)s::int)] END,
       mod(i, 100) = 42,
       CASE WHEN mod(i, {OVER_THRESHOLD_EVERY}) = 0 THEN {LONG_LOG_VERSIONS} ELSE 41 END,
       now() - interval '90 days'
FROM generate_series(%(first)s::int, %(last)s::int) AS i
"""

SKILLS = f"""
INSERT INTO skills (id, owner_id, name, category, level, created_at, updated_at)
SELECT md5('s' || i || ':' || j)::uuid, md5('u' || i)::uuid, 'Skill ' || j,
       (%(categories)s::text[])[1 + mod({R.format(x='i')} + j, 10)],
       1 + mod({R.format(x='i * 8 + j')}, 10),
       now() - make_interval(secs => mod({R.format(x='i * 8 + j + 1')}, 5184000)),
       now() - make_interval(secs => mod({R.format(x='i * 8 + j + 2')}, 5184000))
FROM generate_series(%(first)s::int, %(last)s::int) AS i, generate_series(1, {SKILLS_PER_USER}) AS j
"""

HISTORY = f"""
INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, created_at)
SELECT md5('s' || i || ':' || j)::uuid, md5('u' || i)::uuid, nullif(k - 1, 0), k,
       now() - make_interval(secs => mod({R.format(x='i * 40 + j * 5 + k')}, 5184000))
FROM generate_series(%(first)s::int, %(last)s::int) AS i, generate_series(1, {SKILLS_PER_USER}) AS j,
     generate_series(1, {HISTORY_PER_SKILL}) AS k
"""

# One sign-in per user, three tokens in it (two rotated, one live); 2% of sign-ins revoked weeks ago
# and 2% of tokens long expired: what the maintenance purge looks for among everything else.
FAMILIES = """
INSERT INTO refresh_families (id, user_id, created_at, revoked_at, revoked_reason)
SELECT md5('f' || i)::uuid, md5('u' || i)::uuid, now() - interval '40 days',
       CASE WHEN mod(i, 50) = 7 THEN now() - interval '30 days' END,
       CASE WHEN mod(i, 50) = 7 THEN 'logout' END
FROM generate_series(%(first)s::int, %(last)s::int) AS i
"""
TOKENS = f"""
INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, rotated_at, expires_at)
SELECT sha256(('t' || i || ':' || k)::bytea), md5('f' || i)::uuid, md5('u' || i)::uuid,
       now() - make_interval(days => 4 - k), CASE WHEN k < 3 THEN now() - make_interval(days => 3 - k) END,
       CASE WHEN mod({R.format(x='i * 3 + k')}, 50) = 0 THEN now() - interval '10 days'
            ELSE now() + make_interval(days => 26 + k) END
FROM generate_series(%(first)s::int, %(last)s::int) AS i, generate_series(1, 3) AS k
"""

CHUNK = 50_000  # users per statement: bounded memory and progress at any size


def seed(conn: psycopg.Connection, users: int, *, start: int = 1, progress: bool = False) -> None:
    """Add users ``start..users`` (with their skills, history and sign-ins), then ANALYZE. Growing a
    store of ``start - 1`` generated users to ``users`` gives the same data as seeding ``users`` at once."""

    from shared.clients.db import read_timeout

    with read_timeout(conn, None):  # a load, not a request: no client-side deadline either
        _seed(conn, users, start=start, progress=progress)


def _seed(conn: psycopg.Connection, users: int, *, start: int, progress: bool) -> None:
    """Pooler-safe (issue 11): each chunk is one transaction whose settings are ``SET LOCAL`` (no
    statement timeout; replica mode when allowed), so nothing stays behind on a pooled server
    session, whichever session the next transaction gets."""
    replica: bool | None = None  # triggers and foreign keys off for the load (superuser); else the triggers work
    for first in range(start, users + 1, CHUNK):
        params = {"first": first, "last": min(users, first + CHUNK - 1), "zones": list(ZONES),
                  "zone_count": len(ZONES), "categories": list(CATEGORIES)}
        with conn.transaction():
            replica = _load_settings(conn, try_replica=replica is not False)
            for statement in (USERS, SKILLS, HISTORY, FAMILIES, TOKENS):
                conn.execute(statement, params)
        if progress:
            print(f"  seeded {params['last']:,} users", flush=True)
    with conn.transaction():
        _load_settings(conn, try_replica=False)
        if replica:
            conn.execute("SELECT skill_scores_rebuild()")
        conn.execute("ANALYZE")


def _load_settings(conn: psycopg.Connection, *, try_replica: bool) -> bool:
    """Inside a transaction: no statement timeout (a load, not a request) and, when allowed, replica
    mode; both end with the transaction. Returns whether replica mode is on."""
    import psycopg

    conn.execute("SET LOCAL statement_timeout = 0")
    if not try_replica:
        return False
    try:
        with conn.transaction():  # a savepoint: a refusal must not abort the chunk's transaction
            conn.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True
