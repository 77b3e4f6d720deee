"""Finding people on the wire (issue 17): GET /users?q= answers a page of public profiles."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from shared.models.avatars import AvatarUrls


class PersonResult(BaseModel):
    username: str
    display_name: str | None
    avatar_url: str | None
    avatar_urls: AvatarUrls
    match: Literal["prefix", "fuzzy"]
    score: float  # 2 for a prefix match, else the trigram score (0.3..1)
    total_level: int


class PeoplePage(BaseModel):
    items: list[PersonResult]
    next_cursor: str | None
