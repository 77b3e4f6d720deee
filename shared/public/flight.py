"""Single-flight rebuilds of the cached public views: on a miss ONE caller builds, the others wait.

This module is about load only (no stampede on a cold or expired key); what a view may contain and
when it must go (privacy, invalidation) is ``shared.public.cache``'s business, and it is unchanged
by this: a miss here reads Postgres exactly as before, just once instead of once per caller.

On a miss the caller re-reads the value and, if still missing, takes ``<key>:lock`` (``SET NX EX``),
atomically in one Lua call (one round trip). The winner builds
the view and, in one pipelined round trip, stores it and drops the lock. The others poll the value
and the lock together (one round trip per poll: after 20, 40, 80 ms, then every 200 ms) and return
the value as soon as it is there. When the
build found nothing (a missing or private profile) the winner leaves the lock holding ``NOTHING``
for NOTHING_TTL_S, so the waiters answer None too instead of building one after another; nothing
is cached for the view itself, so a profile made public shows as soon as its own write lands.

A waiter never waits longer than WAIT_S: after that (a winner that died mid-build, or a build slower
than any request should be) it builds itself. Redis unreachable: everyone builds, as before — the
cache fails open. The lock lives LOCK_TTL_S, longer than a build can take (the statement timeout
bounds it), so the unconditional DEL after a build only ever drops the builder's own lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.core.observability import logger
from shared.public import cache as public_cache

LOCK_TTL_S = 10
WAIT_S = 3.0
POLL_S = 0.02  # first poll; then doubling up to MAX_POLL_S (Upstash bills every command)
MAX_POLL_S = 0.2
NOTHING = "\x00nothing"
NOTHING_TTL_S = 1


def lock_key(key: str) -> str:
    return f"{key}:lock"


# Atomically: the value if a builder stored it since our GET missed, else try to take the lock.
# (Without the re-read, a caller whose GET missed just before a build finished would take the
# freed lock and build a second time.) Returns {1, value} | {2} (lock taken) | {0} (someone builds).
TAKE = """
local value = redis.call('GET', KEYS[1])
if value then return {1, value} end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return {2} end
return {0}
"""


def cached(key: str, ttl_s: int, build: Callable[[], str | None]) -> str | None:
    """The cached body under ``key``; on a miss, ``build()`` run by one caller and stored for ``ttl_s``."""
    hit = public_cache.get(key)
    if hit is not None:
        return hit
    deadline = time.monotonic() + WAIT_S
    while True:
        outcome = _take(key)
        if isinstance(outcome, str):
            return outcome
        if outcome is not False:  # True: ours to build; None: Redis unreachable, build uncoordinated
            return _build_and_store(key, ttl_s, build, locked=bool(outcome))
        settled, value = _wait(key, deadline)
        if settled:
            return value
        if time.monotonic() >= deadline:
            return _build_and_store(key, ttl_s, build, locked=False)


def _take(key: str) -> str | bool | None:
    """The value (stored meanwhile), True (the lock is ours), False (another caller builds), None
    (Redis unreachable)."""
    from shared.clients.redis import get_redis

    try:
        reply = get_redis().eval(TAKE, keys=[key, lock_key(key)], args=[str(LOCK_TTL_S)])
    except Exception as exc:
        logger.warning("cache lock failed", extra={"key": key, "error": type(exc).__name__})
        return None
    if reply[0] == 1 and isinstance(reply[1], str):
        return reply[1]
    return reply[0] == 2


def _wait(key: str, deadline: float) -> tuple[bool, str | None]:
    """Poll until the builder stored a value ``(True, value)``, found nothing ``(True, None)``, or the
    lock went without either / the deadline passed ``(False, None)``."""
    from shared.clients.redis import get_redis

    pause = POLL_S
    while time.monotonic() < deadline:
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, MAX_POLL_S)  # a slow build costs each waiter ~15 polls, not 150
        try:
            pipe = get_redis().pipeline()
            pipe.get(key)
            pipe.get(lock_key(key))
            value, lock = pipe.exec()
        except Exception as exc:
            logger.warning("cache read failed", extra={"key": key, "error": type(exc).__name__})
            return False, None
        if isinstance(value, str):
            return True, value
        if lock == NOTHING:
            return True, None
        if lock is None:  # released (or expired) without a value: take over
            return False, None
    return False, None


def _build_and_store(key: str, ttl_s: int, build: Callable[[], str | None], *, locked: bool) -> str | None:
    from shared.clients.redis import get_redis

    try:
        value = build()
    except BaseException:
        if locked:
            _drop_lock(key)
        raise
    if value is None and not locked:
        return None
    try:
        pipe = get_redis().pipeline()
        if value is None:
            pipe.set(lock_key(key), NOTHING, ex=NOTHING_TTL_S)
        else:
            pipe.set(key, value, ex=ttl_s)
            if locked:
                pipe.delete(lock_key(key))
        pipe.exec()
    except Exception as exc:
        logger.warning("cache write failed", extra={"key": key, "error": type(exc).__name__})
    return value


def _drop_lock(key: str) -> None:
    from shared.clients.redis import get_redis

    try:
        get_redis().delete(lock_key(key))
    except Exception as exc:
        logger.warning("cache unlock failed", extra={"key": key, "error": type(exc).__name__})
