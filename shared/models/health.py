"""Health on the wire: whether this stage can serve, and which dependency answered what."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class HealthPublic(BaseModel):
    """The documented shape (the route builds the dict directly: no model round trip per request)."""

    status: str
    timestamp: datetime
    version: str
    database: str
    redis: str
