"""Sync on the wire: offline batch operations and their results, and ``GET /sync``'s two answers
(the changes after a version, or a snapshot).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SkipValidation, StringConstraints

from shared.core.i18n import N_
from shared.models.common import UuidText
from shared.models.profiles import ProfilePublic, ProfileUpdate
from shared.models.skills import SkillCreate, SkillPublic, SkillUpdate

OpId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]


class SkillOperation(BaseModel):
    """One queued skill mutation. ``data`` is validated exactly like the matching REST body."""

    model_config = ConfigDict(extra="forbid")

    op_id: OpId
    type: Literal["skill.create", "skill.update", "skill.delete"]
    skill_id: uuid.UUID
    data: dict[str, Any] = Field(default_factory=dict)
    updated_at: AwareDatetime
    base_updated_at: AwareDatetime | None = None

    def check_data(self) -> None:
        """Validate ``data`` as the REST body of the same mutation (errors located under ``data``)."""
        if self.type == "skill.create":
            self.create_body()
        elif self.type == "skill.update":
            self.update_body()
        elif self.data:
            raise ValueError(N_("a delete carries no data"))

    def create_body(self) -> SkillCreate:
        return SkillCreate.model_validate(self.data)

    def update_body(self) -> SkillUpdate:
        return SkillUpdate.model_validate(self.data)


class ProfileOperation(BaseModel):
    """One queued profile edit: ``data`` is a ``PATCH /me/profile`` body; each field it sets is
    written unless that field was written later than ``updated_at`` (field-level last-write-wins)."""

    model_config = ConfigDict(extra="forbid")

    op_id: OpId
    type: Literal["profile.update"]
    data: dict[str, Any] = Field(default_factory=dict)
    updated_at: AwareDatetime

    def check_data(self) -> None:
        self.update_body()

    def update_body(self) -> ProfileUpdate:
        return ProfileUpdate.model_validate(self.data)


Operation = SkillOperation | ProfileOperation


class SyncBatch(BaseModel):
    """The offline queue. Each operation is validated on its own when the batch runs: an invalid
    one is ``rejected`` with its field errors and the others still apply, so one bad entry never
    blocks a device's queue (the item schemas: ``SkillOperation``, ``ProfileOperation``)."""

    model_config = ConfigDict(extra="forbid")

    # Documented as the two operation schemas, but taken as they come (``SkipValidation``): each one
    # is validated on its own by ``shared.sync.batch.parse`` when the batch runs.
    operations: list[SkipValidation[Operation]] = Field(min_length=1, max_length=100)


class OperationResult(BaseModel):
    op_id: str | None
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
    entity_id: UuidText
    op: str
    data: dict[str, Any] | None
    created_at: datetime


class SyncChangesPublic(BaseModel):
    mode: Literal["changes"] = "changes"
    version: int
    changes: list[ChangePublic]
    has_more: bool
    next: int | None


class ConflictPublic(BaseModel):
    """A write that lost: ``winner`` is the state kept, ``loser`` the one refused (None: a delete).
    In the change log as ``entity: "conflict"`` (``entity_id`` = ``id``) until acknowledged."""

    id: uuid.UUID
    entity: Literal["skill", "profile"]
    entity_id: uuid.UUID
    source: Literal["batch", "rest"]
    op_id: str | None
    resolution: Literal["incoming_won", "stored_won"]
    winner: dict[str, Any] | None
    loser: dict[str, Any] | None
    created_at: datetime


class ConflictPage(BaseModel):
    items: list[ConflictPublic]
    next_cursor: str | None


class SyncSnapshotPublic(BaseModel):
    mode: Literal["snapshot"] = "snapshot"
    version: int
    skills: list[SkillPublic]
    profile: ProfilePublic
    conflicts: list[ConflictPublic] = Field(description="pending (unacknowledged) conflicts")
