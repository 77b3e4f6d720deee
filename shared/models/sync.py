"""Sync on the wire: offline batch operations and their results, and ``GET /sync``'s two answers
(the changes after a version, or a snapshot).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared.models.profiles import ProfilePublic
from shared.models.skills import SkillCreate, SkillPublic, SkillUpdate

OpId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]


class SkillOperation(BaseModel):
    """One queued mutation. ``data`` is validated exactly like the matching REST body."""

    model_config = ConfigDict(extra="forbid")

    op_id: OpId
    type: Literal["skill.create", "skill.update", "skill.delete"]
    skill_id: uuid.UUID
    data: dict[str, Any] = Field(default_factory=dict)
    updated_at: AwareDatetime
    base_updated_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _data_fits_the_type(self) -> SkillOperation:
        """Validate ``data`` as the REST body of the same mutation, so errors name the field at the edge."""
        if self.type == "skill.create":
            self.create_body()
        elif self.type == "skill.update":
            self.update_body()
        elif self.data:
            raise ValueError("a delete carries no data")
        return self

    def create_body(self) -> SkillCreate:
        return SkillCreate.model_validate(self.data)

    def update_body(self) -> SkillUpdate:
        return SkillUpdate.model_validate(self.data)


class SyncBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operations: list[SkillOperation] = Field(min_length=1, max_length=100)

    @field_validator("operations")
    @classmethod
    def _unique_ids(cls, ops: list[SkillOperation]) -> list[SkillOperation]:
        if len({op.op_id for op in ops}) != len(ops):
            raise ValueError("op_id values must be unique within a batch")
        return ops


class OperationResult(BaseModel):
    op_id: str
    status: Literal["applied", "unchanged", "conflict", "not_found", "rejected"]
    resolution: Literal["incoming_won", "stored_won"] | None = None
    entity: dict[str, Any] | None = None
    version: int | None = None
    error: dict[str, Any] | None = None
    replayed: bool = False


class BatchResult(BaseModel):
    version: int
    results: list[OperationResult]




class ChangePublic(BaseModel):
    version: int
    entity: str
    entity_id: str
    op: str
    data: dict[str, Any] | None
    created_at: datetime


class SyncChangesPublic(BaseModel):
    mode: Literal["changes"] = "changes"
    version: int
    changes: list[ChangePublic]
    has_more: bool
    next: int | None


class SyncSnapshotPublic(BaseModel):
    mode: Literal["snapshot"] = "snapshot"
    version: int
    skills: list[SkillPublic]
    profile: ProfilePublic
