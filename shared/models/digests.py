"""Digests on the wire: the unsubscribe answer, and the digest queue's message (one page of users)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

MAX_USERS_PER_MESSAGE = 100


class UnsubscribePublic(BaseModel):
    unsubscribed: bool


class DigestPage(BaseModel):
    """One SQS message: a page of users and the week they are summarised for."""

    model_config = ConfigDict(extra="forbid")
    v: int = 1
    user_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_USERS_PER_MESSAGE)
    iso_year: int
    iso_week: int = Field(ge=1, le=53)
    since: datetime
    until: datetime
