"""Skills and their level history on the wire: create/update bodies, the public shapes, pages.

Bodies forbid unknown fields (no mass assignment: ``owner_id``, ``id``, timestamps cannot be set).
``level`` is a strict integer 1..10 (``"5"``, ``5.5`` and ``true`` are refused). Non-nullable fields
may be omitted from a PATCH but not sent as ``null``. Shared by the routes and, later, the offline
batch endpoint, so one operation is validated the same way however it arrives.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared.core.i18n import N_
from shared.models.categories import Category
from shared.models.common import TimestampText, UuidText, omitted_not_null, refuse_null

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Level = Annotated[int, Field(ge=1, le=10, strict=True)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Note = Annotated[str, StringConstraints(max_length=500)]
SkillSort = Literal["name", "-name", "level", "-level", "created_at", "-created_at", "updated_at", "-updated_at"]


class SkillCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    category: Category
    level: Level
    description: Description | None = None
    note: Note | None = Field(default=None, description="Stored on the skill's first history row.")


SKILL_NOT_NULL = ("name", "category", "level")


class SkillUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=omitted_not_null(*SKILL_NOT_NULL))

    name: Name | None = None
    category: Category | None = None
    level: Level | None = None
    description: Description | None = None
    note: Note | None = Field(default=None, description="Stored on the history row of a level change.")

    _not_null = field_validator(*SKILL_NOT_NULL, mode="before")(refuse_null)

    @model_validator(mode="after")
    def _note_needs_level(self) -> SkillUpdate:
        if "note" in self.model_fields_set and self.note is not None and self.level is None:
            raise ValueError(N_("note describes a level change: send it together with level"))
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as plain values (``note`` travels separately)."""
        sent = self.model_fields_set - {"note"}
        return {k: (str(v) if isinstance(v, Category) else v) for k, v in self.model_dump().items() if k in sent}


class SkillPublic(BaseModel):
    id: UuidText
    name: str
    category: Category
    level: int
    description: str | None
    created_at: TimestampText
    updated_at: TimestampText


class SkillPage(BaseModel):
    items: list[SkillPublic]
    next_cursor: str | None


class ProgressPublic(BaseModel):
    id: int
    skill_id: UuidText
    skill_name: str
    category: Category
    previous_level: int | None
    new_level: int
    note: str | None
    superseded: bool = Field(description="True for a level that lost a sync conflict: kept, never applied.")
    created_at: TimestampText


class ProgressPage(BaseModel):
    items: list[ProgressPublic]
    next_cursor: str | None


