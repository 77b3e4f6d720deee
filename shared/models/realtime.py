"""Realtime on the wire: the single-use WebSocket ticket and the URL that carries it."""

from __future__ import annotations

from pydantic import BaseModel


class TicketPublic(BaseModel):
    ticket: str
    url: str
    expires_in: int
