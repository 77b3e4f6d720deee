"""Helpers for realtime tests: tickets → real WebSocket clients, reading frames, seeding the change log."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from websockets.sync.client import ClientConnection, connect

from shared.clients import db
from shared.identity.tickets import issue_ticket, ticket_key


def ticket_url(user_id: uuid.UUID, session_id: uuid.UUID | None = None) -> str:
    ticket, _ = issue_ticket(user_id, session_id)
    return f"{os.environ['WEBSOCKET_URL']}?ticket={ticket}"


def open_socket(user_id: uuid.UUID, session_id: uuid.UUID | None = None) -> ClientConnection:
    """A real WebSocket client connected through the local gateway with a fresh ticket (of that sign-in),
    its ``hello`` read."""
    return open_socket_with_hello(user_id, session_id)[0]


def open_socket_with_hello(user_id: uuid.UUID, session_id: uuid.UUID | None = None,
                           ) -> tuple[ClientConnection, dict[str, Any]]:
    """A connected client and the ``hello`` frame the server sent it unasked (always the first frame)."""
    sock = connect(ticket_url(user_id, session_id), open_timeout=15)
    hello = recv_json(sock, timeout=10)
    assert hello["type"] == "hello", hello
    return sock, hello


def recv_json(sock: ClientConnection, timeout: float = 1.0) -> dict[str, Any]:
    return json.loads(sock.recv(timeout=timeout))


def hello_id(sock: ClientConnection) -> str:
    """Read the ``hello`` frame every new connection gets first, unasked; returns its connection id."""
    hello = recv_json(sock, timeout=10)
    assert hello["type"] == "hello", hello
    return hello["connection_id"]


def my_connection_id(sock: ClientConnection) -> str:
    """Ask the server (ping → pong) which connection id this socket has."""
    sock.send(json.dumps({"action": "ping"}))
    pong = recv_json(sock, timeout=5)
    assert pong["type"] == "pong", pong
    return pong["connection_id"]


def connection_ids(user_id: uuid.UUID) -> set[str]:
    rows = db.get_conn().execute("SELECT connection_id FROM ws_connections WHERE user_id = %s", (user_id,))
    return {r["connection_id"] for r in rows.fetchall()}


def expire_ticket(url: str) -> None:
    """Make a ticket expire now, as Redis would after 60 s (EXPIRE with 0 deletes the key)."""
    from shared.clients.redis import get_redis

    ticket = url.rsplit("ticket=", 1)[1]
    assert get_redis().exists(ticket_key(ticket)) == 1
    get_redis().expire(ticket_key(ticket), 0)


def add_changes(user_id: uuid.UUID, count: int) -> int:
    """Append ``count`` skill changes to the user's log in one statement; returns the new version."""
    row = db.get_conn().execute(
        """
        WITH u AS (UPDATE users SET sync_version = sync_version + %(n)s WHERE id = %(user)s RETURNING sync_version)
        INSERT INTO changes (owner_id, version, entity, entity_id, op, data)
        SELECT %(user)s, u.sync_version - %(n)s + g, 'skill', gen_random_uuid(), 'upsert',
               jsonb_build_object('name', 'skill ' || g, 'level', 1 + g %% 10)
        FROM u, generate_series(1, %(n)s) AS g
        RETURNING version
        """,
        {"user": user_id, "n": count},
    ).fetchall()
    return max(r["version"] for r in row)


def add_skill(user_id: uuid.UUID, name: str = "Python", level: int = 5) -> dict[str, Any]:
    row = db.get_conn().execute(
        "INSERT INTO skills (owner_id, name, category, level, description) VALUES (%s, %s, 'programming', %s, 'x')"
        " RETURNING id", (user_id, name, level)).fetchone()
    assert row is not None
    return row
