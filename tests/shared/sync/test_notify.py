"""after_write: one Redis call that drops every public view a write can change; never fails a write."""

from __future__ import annotations

from shared.clients.redis import get_redis
from shared.public import cache as public_cache
from shared.sync.notify import after_write


def test_after_write_drops_profile_card_and_every_leaderboard_in_one_call(redis_counter):
    keys = public_cache.keys_for("alice")
    other = public_cache.profile_key("bob")
    for key in [*keys, other]:
        get_redis().set(key, "cached")
    redis_counter.reset()
    after_write("00000000-0000-0000-0000-000000000001", {"entity": "skill", "version": 3, "username": "Alice"})
    assert redis_counter.count == 1
    assert get_redis().exists(*keys) == 0 and get_redis().get(other) == "cached"
    assert len(keys) == 2 + 1 + 10  # profile, card, overall board, one board per category


def test_after_write_survives_an_unreachable_cache(stack):
    from shared.clients.registry import reset_all

    stack.stop_bridge()
    try:
        reset_all()
        after_write("00000000-0000-0000-0000-000000000001", {"entity": "profile", "username": "alice"})
    finally:
        stack.start_bridge()
        reset_all()
