"""Single-use WebSocket tickets in the real Redis (through the Upstash bridge)."""

from __future__ import annotations

import uuid

from shared.clients.redis import get_redis
from shared.identity.tickets import KEY_PREFIX, issue_ticket, redeem_ticket, ticket_key

USER = uuid.UUID("6f1d2c3b-4a59-4e7f-8a1b-2c3d4e5f6071")


def test_a_ticket_works_exactly_once():
    ticket, ttl = issue_ticket(USER)
    assert ttl == 60
    assert redeem_ticket(ticket) == USER
    assert redeem_ticket(ticket) is None


def test_it_lives_60_seconds_under_its_hash_only():
    ticket, _ = issue_ticket(USER)
    assert 0 < get_redis().ttl(ticket_key(ticket)) <= 60
    assert get_redis().get(ticket) is None
    assert all(ticket not in key for key in get_redis().keys(f"{KEY_PREFIX}*"))


def test_forged_expired_and_malformed_tickets_are_refused():
    ticket, _ = issue_ticket(USER)
    get_redis().expire(ticket_key(ticket), 0)
    assert redeem_ticket(ticket) is None
    assert redeem_ticket("A" * 43) is None  # well-formed, never issued
    for bad in ("", None, "short", "A" * 44, "../../" + "A" * 37):
        assert redeem_ticket(bad) is None
