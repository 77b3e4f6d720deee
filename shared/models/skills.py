"""Skills and their level history on the wire: create/update bodies, the public shapes, pages.

Bodies forbid unknown fields (no mass assignment: ``owner_id``, ``id``, timestamps cannot be set).
``level`` is a strict integer 1..10 (``"5"``, ``5.5`` and ``true`` are refused). Non-nullable fields
may be omitted from a PATCH but not sent as ``null``. Shared by the routes and, later, the offline
batch endpoint, so one operation is validated the same way however it arrives.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.core.i18n import N_
from shared.models.categories import Category
from shared.models.common import TimestampText, UuidText, omitted_not_null, refuse_null

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Level = Annotated[int, Field(ge=1, le=10, strict=True)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Note = Annotated[str, StringConstraints(max_length=500)]
SkillSort = Literal["name", "-name", "level", "-level", "created_at", "-created_at", "updated_at", "-updated_at"]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _calendar_date(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` text (or a date): not a timestamp, not a Unix time, which a lax date would take.
    A goal's date is a day on the user's calendar, so a time or an offset has no meaning here."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("must be a calendar date, YYYY-MM-DD")


TargetDate = Annotated[date, BeforeValidator(_calendar_date)]


class GoalSet(BaseModel):
    """A skill's goal: reach ``target_level`` by ``target_date`` (a day in the user's time zone).

    Both parts together: a goal is replaced as a whole, never merged field by field, so a client
    cannot end up with half of an old goal. ``target_level`` must be above the skill's level (the
    level after the same write, when it also sets ``level``): a goal at or below it would already be
    met, and "reached" means a level-up got there. The date may be in the past (the goal is then
    overdue): offline queues replay late, and "today" depends on the user's zone.
    """

    model_config = ConfigDict(extra="forbid")

    target_level: Annotated[int, Field(ge=2, le=10, strict=True)]
    target_date: TargetDate = Field(description="YYYY-MM-DD, a day in the user's time zone (profile `timezone`).")

    def as_json(self) -> dict[str, Any]:
        return {"target_level": self.target_level, "target_date": self.target_date.isoformat()}


def _goal_above(goal: GoalSet | None, info: ValidationInfo) -> GoalSet | None:
    """A goal sent with a level must be above it (a goal sent alone is checked by the write
    statement against the stored level: the ``skills_goal_above_level`` constraint, migration 016)."""
    level = info.data.get("level")
    if level is not None and goal is not None and goal.target_level <= level:
        raise ValueError(f"target_level must be above the skill's level ({level})")
    return goal


class SkillCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    category: Category
    level: Level
    description: Description | None = None
    note: Note | None = Field(default=None, description="Stored on the skill's first history row.")
    goal: GoalSet | None = Field(default=None, description="Optional: a target level above `level`, and a date.")

    _goal_above_level = field_validator("goal")(_goal_above)


SKILL_NOT_NULL = ("name", "category", "level")


class SkillUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=omitted_not_null(*SKILL_NOT_NULL))

    name: Name | None = None
    category: Category | None = None
    level: Level | None = None
    description: Description | None = None
    note: Note | None = Field(default=None, description="Stored on the history row of a level change.")
    goal: GoalSet | None = Field(default=None, description=(
        "Set the goal (replaces the whole goal; `target_level` above the skill's level), or null to clear it."))

    _not_null = field_validator(*SKILL_NOT_NULL, mode="before")(refuse_null)
    _goal_above_level = field_validator("goal")(_goal_above)

    @model_validator(mode="after")
    def _note_needs_level(self) -> SkillUpdate:
        if "note" in self.model_fields_set and self.note is not None and self.level is None:
            raise ValueError(N_("note describes a level change: send it together with level"))
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as plain values (``note`` travels separately)."""
        sent = self.model_fields_set - {"note"}
        changes = {k: (str(v) if isinstance(v, Category) else v) for k, v in self.model_dump().items() if k in sent}
        if "goal" in changes:  # JSON-ready: it is also the "attempt" a recorded conflict keeps
            changes["goal"] = self.goal.as_json() if self.goal is not None else None
        return changes


class ProfileSkill(BaseModel):
    """A skill as others see it on a public profile: no goal (the owner's private plan)."""

    id: UuidText
    name: str
    category: Category
    level: int
    description: str | None
    created_at: TimestampText
    updated_at: TimestampText


class GoalState(BaseModel):
    target_level: int
    target_date: date
    reached_at: TimestampText | None = Field(description="When a level-up reached the target; null while open.")


class SkillPublic(ProfileSkill):
    """A skill as its owner sees it (every skill route, the change log, the sync snapshot, the export)."""

    goal: GoalState | None


GoalStatus = Literal["open", "due_soon", "overdue", "reached"]


class GoalPublic(BaseModel):
    """One goal, judged on ``today`` (the user's local date): ``reached`` once a level-up got there,
    else ``overdue`` after ``target_date``, ``due_soon`` within the next 7 days (today included),
    else ``open``."""

    skill_id: UuidText
    skill_name: str
    category: Category
    level: int
    target_level: int
    target_date: date
    reached_at: TimestampText | None
    status: GoalStatus
    days_left: int = Field(description="target_date minus today in the user's time zone (negative: overdue).")


class GoalPage(BaseModel):
    today: date = Field(description="The user's local date the statuses were judged on (profile `timezone`).")
    items: list[GoalPublic]
    next_cursor: str | None


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


