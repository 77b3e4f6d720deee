"""WebSocket $disconnect through the real handler: forgets the connection, never fails."""

from __future__ import annotations

from datetime import UTC, datetime

from functions.ws_disconnect.app import handler
from shared.clients import db
from shared.repositories import connections
from tests.support import load_event
from tests.support.realtime import connection_ids


def test_disconnect_removes_only_that_connection(make_user):
    user, _ = make_user()
    for cid in ("BFaT_fALIAMCKug=", "other="):
        connections.register(db.get_conn(), connection_id=cid, user_id=user["id"],
                             connected_at=datetime.now(UTC), max_lifetime_s=7200)
    event = load_event("event-ws-disconnect")
    assert event["requestContext"]["disconnectStatusCode"] == 1005
    assert handler(event, None) == {"statusCode": 200}
    assert connection_ids(user["id"]) == {"other="}


def test_an_unknown_connection_is_fine():
    assert handler(load_event("event-ws-disconnect"), None) == {"statusCode": 200}
