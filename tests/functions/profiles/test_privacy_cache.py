"""Privacy never goes stale (issue 13): a profile is never made private while its cached public
copies cannot be dropped, so no public read after a privacy change can be stale. Real handler,
real Postgres, real Redis behind the real Upstash bridge (stopped to take Redis away)."""

from __future__ import annotations

import pytest

from functions.profiles.app import handler
from functions.skills.app import handler as skills
from shared.clients.registry import reset_all
from shared.public import cache as public_cache
from tests.support.skills import call, db_one

PRIVATE = {"privacy_settings": {"profile_visibility": "private"}}


@pytest.fixture
def alice(make_user):
    user, headers = make_user("alice", display_name="Alice")
    assert call(skills, "POST", "/api/v1/skills", headers, {"name": "Go", "category": "mind", "level": 3}).status == 201
    return user, headers


def public_views() -> tuple[int, int]:
    return (call(handler, "GET", "/api/v1/users/alice").status,
            call(handler, "GET", "/api/v1/users/alice/card.svg").status)


def visibility(user) -> str:
    return db_one("SELECT privacy_settings FROM users WHERE id = %s", user["id"])["privacy_settings"][
        "profile_visibility"]


def test_redis_down_refuses_to_hide_then_hiding_is_404_at_once_when_it_is_back(alice, stack):
    user, headers = alice
    assert public_views() == (200, 200)  # both cached now
    assert public_cache.get(public_cache.card_key("alice")) is not None

    stack.stop_bridge()
    try:
        reset_all()
        refused = call(handler, "PATCH", "/api/v1/me/profile", headers, PRIVATE)
        assert refused.status == 503 and refused.json["error"]["code"] == "cache_unavailable"
        assert visibility(user) == "public"  # nothing changed: the cached copies are still the truth
        other = call(handler, "PATCH", "/api/v1/me/profile", headers, {"bio": "still writes"})
        assert other.status == 200  # every other write still fails open
    finally:
        stack.start_bridge()
        reset_all()

    hidden = call(handler, "PATCH", "/api/v1/me/profile", headers, PRIVATE)
    assert hidden.status == 200 and visibility(user) == "private"
    assert public_views() == (404, 404)  # at once: neither the profile nor a card rebuilt from it
    assert public_cache.get(public_cache.profile_key("alice")) is None


def test_hiding_drops_the_cached_copies_before_the_write(alice, redis_counter):
    _, headers = alice
    public_views()
    redis_counter.reset()
    assert call(handler, "PATCH", "/api/v1/me/profile", headers, PRIVATE).status == 200
    assert redis_counter.count == 2, redis_counter.statements  # the drop before, and the write's own after
    assert public_views() == (404, 404)
    assert call(handler, "PATCH", "/api/v1/me/profile", headers, PRIVATE).status == 200  # already private



def test_opting_out_of_the_boards_is_refused_while_they_cannot_be_dropped(alice, stack):
    """Issue 17: the leaderboard opt-out follows the same rule: the cached boards and the level
    distribution list the user until dropped, so they go first or nothing is written."""
    user, headers = alice
    opt_out = {"privacy_settings": {"leaderboard": "hidden"}}
    board = call(handler, "GET", "/api/v1/leaderboard").json["entries"]
    assert [e["username"] for e in board] == ["alice"]
    assert call(handler, "GET", "/api/v1/leaderboard/distribution").status == 200  # both cached now
    stack.stop_bridge()
    try:
        reset_all()
        refused = call(handler, "PATCH", "/api/v1/me/profile", headers, opt_out)
        assert refused.status == 503 and refused.json["error"]["code"] == "cache_unavailable"
        settings = db_one("SELECT privacy_settings FROM users WHERE id = %s", user["id"])["privacy_settings"]
        assert "leaderboard" not in settings
    finally:
        stack.start_bridge()
        reset_all()
    assert call(handler, "PATCH", "/api/v1/me/profile", headers, opt_out).status == 200
    assert call(handler, "GET", "/api/v1/leaderboard").json["entries"] == []  # at once
    assert call(handler, "GET", "/api/v1/leaderboard/distribution").json["levels"] == []


def test_opting_out_drops_the_boards_before_the_write(alice, redis_counter):
    _, headers = alice
    opt_out = {"privacy_settings": {"leaderboard": "hidden"}}
    redis_counter.reset()
    assert call(handler, "PATCH", "/api/v1/me/profile", headers, opt_out).status == 200
    assert redis_counter.count == 2, redis_counter.statements  # the drop before, and the write's own after
    redis_counter.reset()
    assert call(handler, "PATCH", "/api/v1/me/profile", headers, opt_out).status == 200  # already off: no drop
    assert redis_counter.count == 0, redis_counter.statements  # (and an unchanged write drops nothing)


def test_an_offline_batch_that_hides_the_profile_drops_the_public_copies_first_or_is_refused(alice, stack):
    """The sync batch is the other way to write a profile: the same rule holds there. The operations
    before the refused one are committed and replay as such when the device retries the batch."""
    from datetime import UTC, datetime

    from functions.realtime.app import handler as realtime

    user, headers = alice
    at = datetime.now(UTC).isoformat()
    ops = {"operations": [{"op_id": "bio-1", "type": "profile.update", "data": {"bio": "offline"}, "updated_at": at},
                          {"op_id": "hide-1", "type": "profile.update", "data": PRIVATE, "updated_at": at}]}
    assert public_views() == (200, 200)  # both cached now
    stack.stop_bridge()
    try:
        reset_all()
        refused = call(realtime, "POST", "/api/v1/sync/batch", headers, ops)
        assert refused.status == 503 and refused.json["error"]["code"] == "cache_unavailable"
        assert visibility(user) == "public"
    finally:
        stack.start_bridge()
        reset_all()

    retried = call(realtime, "POST", "/api/v1/sync/batch", headers, ops)
    assert retried.status == 200, retried
    assert [(r["op_id"], r["status"], r.get("replayed")) for r in retried.json["results"]] == [
        ("bio-1", "applied", True), ("hide-1", "applied", False)]
    assert visibility(user) == "private" and public_views() == (404, 404)
