"""WebSocket $connect through the real handler, with the recorded AWS event shape."""

from __future__ import annotations

from datetime import UTC, datetime

from functions.ws_connect.app import handler
from shared.clients import db
from shared.clients.registry import reset_all
from shared.identity.tickets import issue_ticket
from tests.support import load_event
from tests.support.realtime import connection_ids, expire_ticket


def _connect(ticket: str | None) -> dict:
    event = load_event("event-ws-connect")
    if ticket is None:
        event.pop("queryStringParameters")
        event.pop("multiValueQueryStringParameters")
    else:
        event["queryStringParameters"]["ticket"] = ticket
    return handler(event, None)


def test_a_valid_ticket_registers_the_connection(make_user):
    user, _ = make_user()
    ticket, _ = issue_ticket(user["id"])
    assert _connect(ticket)["statusCode"] == 200
    row = db.get_conn().execute("SELECT * FROM ws_connections").fetchone()
    assert row["connection_id"] == "BFHPhfCWIAMCKlQ=" and row["user_id"] == user["id"]
    assert row["connected_at"] == datetime.fromtimestamp(1731324924.553, UTC)
    assert (row["expires_at"] - row["connected_at"]).total_seconds() == 7200


def test_missing_ticket_is_401_as_for_the_recorded_event_without_a_query():
    assert _connect(None)["statusCode"] == 401
    assert _connect("")["statusCode"] == 401


def test_forged_reused_and_expired_tickets_are_403(make_user):
    user, _ = make_user()
    assert _connect("A" * 43)["statusCode"] == 403
    ticket, _ = issue_ticket(user["id"])
    assert _connect(ticket)["statusCode"] == 200
    assert _connect(ticket)["statusCode"] == 403
    expired, _ = issue_ticket(user["id"])
    expire_ticket(f"x?ticket={expired}")
    assert _connect(expired)["statusCode"] == 403
    assert connection_ids(user["id"]) == {"BFHPhfCWIAMCKlQ="}


def test_a_deleted_user_cannot_connect_with_an_old_ticket(make_user):
    user, _ = make_user()
    ticket, _ = issue_ticket(user["id"])
    db.get_conn().execute("DELETE FROM users WHERE id = %s", (user["id"],))
    assert _connect(ticket)["statusCode"] == 403


def test_redis_down_refuses_with_503(stack):
    stack.stop_bridge()
    try:
        reset_all()
        assert _connect("A" * 43)["statusCode"] == 503
    finally:
        stack.start_bridge()
