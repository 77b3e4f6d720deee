"""after_write: one Redis call that drops every public view a write can change; never fails a write."""

from __future__ import annotations

from shared.clients.redis import get_redis
from shared.public import cache as public_cache
from shared.sync.notify import after_write


def test_a_skill_write_drops_its_owners_profile_and_card_but_leaves_the_boards(redis_counter):
    mine = public_cache.keys_for("alice")
    boards = public_cache.leaderboard_keys()
    other = public_cache.profile_key("bob")
    for key in [*mine, *boards, other]:
        get_redis().set(key, "cached")
    redis_counter.reset()
    after_write("00000000-0000-0000-0000-000000000001", {"entity": "skill", "version": 3, "username": "Alice"})
    assert redis_counter.count == 1
    assert get_redis().exists(*mine) == 0 and get_redis().get(other) == "cached"
    assert get_redis().exists(*boards) == len(boards) == 1 + 10 + 1  # overall, per category, distribution: TTL only


def test_a_profile_write_also_drops_every_board_in_the_same_call(redis_counter):
    keys = public_cache.keys_for("alice", leaderboards=True)
    for key in keys:
        get_redis().set(key, "cached")
    redis_counter.reset()
    after_write("00000000-0000-0000-0000-000000000001", {"entity": "profile", "version": 4, "username": "alice"})
    assert redis_counter.count == 1
    assert get_redis().exists(*keys) == 0 and len(keys) == 2 + 1 + 10 + 1  # + the level distribution


def test_after_write_survives_an_unreachable_cache(stack):
    from shared.clients.registry import reset_all

    stack.stop_bridge()
    try:
        reset_all()
        after_write("00000000-0000-0000-0000-000000000001", {"entity": "profile", "username": "alice"})
    finally:
        stack.start_bridge()
        reset_all()
