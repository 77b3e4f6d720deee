"""Request and response models for skills, progress, profiles and the character sheet.

Bodies forbid unknown fields (no mass assignment: ``owner_id``, ``id``, timestamps cannot be set).
``level`` is a strict integer 1..10 (``"5"``, ``5.5`` and ``true`` are refused). Non-nullable fields
may be omitted from a PATCH but not sent as ``null``. Shared by the routes and, later, the offline
batch endpoint, so one operation is validated the same way however it arrives.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared.categories import Category
from shared.timezones import TimeZoneName

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Level = Annotated[int, Field(ge=1, le=10, strict=True)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Note = Annotated[str, StringConstraints(max_length=500)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Bio = Annotated[str, StringConstraints(max_length=2000)]
SkillSort = Literal["name", "-name", "level", "-level", "created_at", "-created_at", "updated_at", "-updated_at"]


def _refuse_null(value: Any) -> Any:
    """For PATCH bodies: a non-nullable field may be omitted, but an explicit null is an error."""
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


class SkillCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    category: Category
    level: Level
    description: Description | None = None
    note: Note | None = Field(default=None, description="Stored on the skill's first history row.")


class SkillUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    category: Category | None = None
    level: Level | None = None
    description: Description | None = None
    note: Note | None = Field(default=None, description="Stored on the history row of a level change.")

    _not_null = field_validator("name", "category", "level", mode="before")(_refuse_null)

    @model_validator(mode="after")
    def _note_needs_level(self) -> SkillUpdate:
        if "note" in self.model_fields_set and self.note is not None and self.level is None:
            raise ValueError("note describes a level change: send it together with level")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as plain values (``note`` travels separately)."""
        sent = self.model_fields_set - {"note"}
        return {k: (str(v) if isinstance(v, Category) else v) for k, v in self.model_dump().items() if k in sent}


class SkillPublic(BaseModel):
    id: str
    name: str
    category: Category
    level: int
    description: str | None
    created_at: str
    updated_at: str


class SkillPage(BaseModel):
    items: list[SkillPublic]
    next_cursor: str | None


class ProgressPublic(BaseModel):
    id: int
    skill_id: str
    skill_name: str
    category: Category
    previous_level: int | None
    new_level: int
    note: str | None
    superseded: bool = Field(description="True for a level that lost a sync conflict: kept, never applied.")
    created_at: str


class ProgressPage(BaseModel):
    items: list[ProgressPublic]
    next_cursor: str | None


class PrivacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_visibility: Literal["public", "private"]


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    bio: Bio | None = None
    privacy_settings: PrivacySettings | None = None
    timezone: TimeZoneName | None = Field(default=None,
                                          description="IANA name; weekly digests arrive Monday 08:00 there.")
    digest_opt_out: bool | None = Field(default=None, description="True: no weekly digest emails.")

    _not_null = field_validator("privacy_settings", "timezone", "digest_opt_out", mode="before")(_refuse_null)

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if k in self.model_fields_set}


class CategoryStats(BaseModel):
    category: Category
    skill_count: int
    total_level: int
    average_level: float
    max_level: int


class Radar(BaseModel):
    axes: list[Category]
    values: list[float]
    metric: str
    max: int


class CharacterStats(BaseModel):
    total_level: int
    skill_count: int
    character_level: int
    next_level_at: int
    categories: list[CategoryStats]
    radar: Radar


class PublicProfile(BaseModel):
    username: str
    display_name: str | None
    avatar_url: str | None
    bio: str | None
    created_at: str
    character: CharacterStats
    skills: list[SkillPublic]


class LeaderboardEntry(BaseModel):
    rank: int
    username: str
    display_name: str | None
    avatar_url: str | None
    score: int
    skill_count: int
    total_level: int
    character_level: int


class Leaderboard(BaseModel):
    category: Category | None
    entries: list[LeaderboardEntry]
