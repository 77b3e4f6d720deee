"""The daily maintenance handler with the scheduler's sample event, against real Postgres.

Every rule is seeded on both sides of its boundary; the test asserts exactly what went and what
stayed, that sync clients behind the compacted log get a snapshot equal to the live data while
recent ones still get deltas, and that a second run deletes nothing.
"""

from __future__ import annotations

import pytest

from functions.maintenance.app import handler
from functions.profiles.app import handler as profiles
from functions.realtime.app import handler as realtime
from functions.skills.app import handler as skills
from local.lambda_context import LambdaContext
from shared.clients import db
from shared.clients.registry import reset_all
from shared.core.errors import UnauthorizedError
from shared.identity import sessions
from tests.support import http_event, invoke, load_event
from tests.support.maintenance import (
    Records,
    families,
    floor,
    log_versions,
    remaining,
    seed_conflicts,
    seed_connections,
    seed_digest_sends,
    seed_operations,
    seed_sessions,
    token_hashes,
)
from tests.support.realtime import add_changes

pytestmark = pytest.mark.usefixtures("no_mail_queue")  # they count the steps; see the fixture


KEEP = 10
NOTHING = {"refresh_tokens": 0, "refresh_families": 0, "changes": 0, "users_compacted": 0, "ws_connections": 0,
           "applied_operations": 0, "sync_conflicts": 0, "digest_sends": 0, "account_tokens": 0,
           "username_tombstones": 0, "security_events": 0, "achievement_rarity": 0, "complete": True}


@pytest.fixture(autouse=True)
def small_log(monkeypatch):
    monkeypatch.setenv("SYNC_LOG_KEEP_VERSIONS", str(KEEP))
    reset_all()


def run() -> dict:
    """Invoke as Lambda would, with the template's 300 s timeout."""
    return handler(load_event("event-scheduled-maintenance"), LambdaContext(function_name="maintenance",
                                                                          timeout_s=300))


def _sync(headers: dict[str, str], since: int):
    event = load_event("event-get-sync")
    event["headers"]["authorization"] = headers["authorization"]
    event["queryStringParameters"], event["rawQueryString"] = {"since": str(since)}, f"since={since}"
    return invoke(realtime, event)


def _skills_with_a_long_log(headers: dict[str, str], user_id) -> None:
    for name, level in [("zig", 2), ("Ada", 5), ("cobol", 1)]:
        created = invoke(skills, http_event("POST", "/api/v1/skills", headers=headers,
                                            body={"name": name, "category": "programming", "level": level}))
        assert created.status == 201, created
    assert add_changes(user_id, 25) == 30  # three skills and the two achievements they earned: 5 versions


def test_a_run_deletes_exactly_what_nothing_needs_and_a_second_run_nothing(make_user):
    alice, alice_headers = make_user("alice")
    bob, _ = make_user("bob")
    _skills_with_a_long_log(alice_headers, alice["id"])
    add_changes(bob["id"], KEEP - 5)
    tokens = seed_sessions(alice["id"])
    records = Records()
    for seed in (seed_connections, seed_operations, seed_conflicts, seed_digest_sends):
        seed(alice["id"], records)

    assert run() == {"refresh_tokens": 3, "refresh_families": 2, "changes": 20, "users_compacted": 1,
                     "ws_connections": 2, "applied_operations": 2, "sync_conflicts": 1, "digest_sends": 1,
                     "account_tokens": 0, "username_tombstones": 0, "security_events": 0,
                     "achievement_rarity": 2, "complete": True}  # alice holds first_skill and skill_level_5

    assert families() == {tokens.live, tokens.just_expired, tokens.revoked_recently}
    assert tokens.live_expired_token not in token_hashes(tokens.live) and len(token_hashes(tokens.live)) == 2
    for table, fresh in records.fresh.items():
        assert remaining(table) == fresh, table
    assert log_versions(alice["id"]) == list(range(21, 31)) and floor(alice["id"]) == 21
    assert log_versions(bob["id"]) == list(range(1, 6)) and floor(bob["id"]) == 0

    assert run() == NOTHING

    # The sessions that stayed still behave: the current token refreshes, and reusing the rotated
    # one (kept because it has not expired) still revokes the whole family.
    conn = db.get_conn()
    assert sessions.refresh(conn, tokens.live_current_token)
    with pytest.raises(UnauthorizedError):
        sessions.refresh(conn, tokens.live_rotated_token)
    assert conn.execute("SELECT revoked_reason FROM refresh_families WHERE id = %s",
                        (tokens.live,)).fetchone()["revoked_reason"] == "reuse"


@pytest.mark.parametrize("since", [0, 3, 19])
def test_behind_the_compacted_log_sync_answers_with_a_snapshot_of_the_live_data(make_user, since):
    alice, headers = make_user("alice")
    _skills_with_a_long_log(headers, alice["id"])
    run()
    response = _sync(headers, since)
    assert response.status == 200, response
    body = response.json
    listed = invoke(skills, http_event("GET", "/api/v1/skills", headers=headers, query={"limit": "100"})).json
    profile = invoke(profiles, http_event("GET", "/api/v1/me/profile", headers=headers)).json
    assert body["mode"] == "snapshot" and body["version"] == 30
    assert body["skills"] == listed["items"] and [s["name"] for s in body["skills"]] == ["Ada", "cobol", "zig"]
    assert body["profile"] == profile


@pytest.mark.parametrize("since", [20, 25, 30])
def test_within_the_kept_log_sync_still_answers_with_deltas(make_user, since):
    alice, headers = make_user("alice")
    _skills_with_a_long_log(headers, alice["id"])
    run()
    body = _sync(headers, since).json
    assert body["mode"] == "changes" and body["version"] == 30
    assert [c["version"] for c in body["changes"]] == list(range(since + 1, 31))


def test_out_of_time_it_stops_before_the_first_statement(make_user):
    alice, _ = make_user("alice")
    add_changes(alice["id"], 30)
    result = handler(load_event("event-scheduled-maintenance"), LambdaContext(function_name="maintenance",
                                                                              timeout_s=5))
    assert result == {"complete": False}
    assert len(log_versions(alice["id"])) == 30
