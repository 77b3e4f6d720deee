"""Offline batches: apply a device's queued skill mutations once each, last-write-wins with notice.

Rules (the product documents' "last-write-wins with notification"):
* every operation carries a client ``op_id``; it is applied at most once per user, and a replay is
  answered with the stored result (same state, same version);
* ``updated_at`` is when the device made the edit (clamped to the server's clock, so a device whose
  clock runs ahead cannot win every future conflict); the newer of the stored row and the incoming
  edit wins;
* a conflict is when the stored row is newer than the edit, or (with ``base_updated_at``, the
  version the device edited from) when someone else changed the row since. Either way both values
  are kept: the conflict is logged with winner and loser, a losing level stays in the skill's
  history as a ``superseded`` row, the result says ``conflict`` with the winning state, and the
  user's devices get a ``conflict`` message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.clients import db
from shared.core.errors import AppError
from shared.models.sync import BatchResult, OperationResult, SkillOperation, SyncBatch
from shared.repositories import operations, skills, users

Row = dict[str, Any]


@dataclass
class Outcome:
    """What one operation did, and what to announce once it has committed."""

    result: OperationResult
    changes: list[Row] = field(default_factory=list)
    conflicts: list[Row] = field(default_factory=list)


def apply_batch(owner_id: uuid.UUID, batch: SyncBatch) -> tuple[BatchResult, list[Outcome]]:
    """Apply each operation in its own transaction (claim, apply, store result), in order."""
    outcomes = [_apply_once(owner_id, op) for op in batch.operations]
    version = users.sync_version(db.get_conn(), owner_id) or 0
    return BatchResult(version=version, results=[o.result for o in outcomes]), outcomes


def announce(owner_id: uuid.UUID, outcomes: list[Outcome]) -> None:
    """After the commits: every applied change and every conflict notice goes to the other devices."""
    from shared.sync.notify import after_conflict, after_write

    for outcome in outcomes:
        for change in outcome.changes:
            after_write(owner_id, change)
        for notice in outcome.conflicts:
            after_conflict(owner_id, notice)


def _apply_once(owner_id: uuid.UUID, op: SkillOperation) -> Outcome:
    with db.transaction() as conn:
        if not operations.claim(conn, owner_id, op.op_id):
            stored = OperationResult.model_validate(operations.stored_result(conn, owner_id, op.op_id))
            return Outcome(stored.model_copy(update={"replayed": True}))
        try:
            with conn.transaction():  # a savepoint: a rejected operation still records its result
                outcome = _apply(conn, owner_id, op, min(op.updated_at, datetime.now(UTC)))
        except AppError as exc:
            error = {"code": exc.code, "message": exc.message, "details": exc.details}
            outcome = Outcome(OperationResult(op_id=op.op_id, status="rejected", error=error))
        operations.store_result(conn, owner_id, op.op_id, outcome.result.model_dump(mode="json"))
    return outcome


def _apply(conn: Any, owner_id: uuid.UUID, op: SkillOperation, at: datetime) -> Outcome:
    if op.type == "skill.create":
        body = op.create_body()
        res = skills.create_skill(conn, owner_id, skill_id=op.skill_id, updated_at=at,
                                  **body.model_dump(exclude_unset=False))
        changes = [res.change] if res.change else []
        return Outcome(_result(op, res.status, res.entity, res.sync_version), changes)
    version, current = skills.get_skill(conn, owner_id, op.skill_id)
    if current is None:
        return Outcome(_result(op, "not_found", None, version))
    if _stamp(current) > at:  # the stored state is newer: it wins, the edit is kept as the loser
        return _stored_wins(conn, owner_id, op, current, version)
    if op.type == "skill.update":
        body = op.update_body()
        res = skills.update_skill(conn, owner_id, op.skill_id, body.changes(), note=body.note, updated_at=at,
                                  if_unmodified_since=at)
    else:
        res = skills.delete_skill(conn, owner_id, op.skill_id, if_unmodified_since=at)
    if res.status == "stale":  # a concurrent writer got in between our read and write
        return _stored_wins(conn, owner_id, op, res.entity or current, res.sync_version)
    changes = [res.change] if res.change else []
    if op.base_updated_at is not None and _stamp(current) != op.base_updated_at:
        notice = _log(conn, owner_id, op, "incoming_won", winner=res.entity, loser=current)
        return Outcome(_result(op, "conflict", res.entity, res.sync_version, "incoming_won"), changes, [notice])
    return Outcome(_result(op, res.status, res.entity, res.sync_version), changes)


def _stored_wins(conn: Any, owner_id: uuid.UUID, op: SkillOperation, current: Row, version: int | None) -> Outcome:
    loser = None if op.type == "skill.delete" else {**current, **op.update_body().changes()}
    if loser is not None and loser.get("level") != current.get("level"):
        operations.keep_superseded_level(conn, owner_id, op.skill_id, int(loser["level"]), op.data.get("note"))
    notice = _log(conn, owner_id, op, "stored_won", winner=current, loser=loser)
    return Outcome(_result(op, "conflict", current, version, "stored_won"), conflicts=[notice])


def _log(conn: Any, owner_id: uuid.UUID, op: SkillOperation, resolution: str, *, winner: Row | None,
         loser: Row | None) -> Row:
    operations.log_conflict(conn, owner_id, entity_id=op.skill_id, op_id=op.op_id, resolution=resolution,
                            winner=winner, loser=loser)
    return {"type": "conflict", "entity": "skill", "entity_id": str(op.skill_id), "op_id": op.op_id,
            "resolution": resolution, "winner": winner, "loser": loser}


def _result(op: SkillOperation, status: str, entity: Row | None, version: int | None,
            resolution: str | None = None) -> OperationResult:
    return OperationResult(op_id=op.op_id, status=status, entity=entity, version=version,  # type: ignore[arg-type]
                           resolution=resolution)  # type: ignore[arg-type]


def _stamp(entity: Row) -> datetime:
    return datetime.fromisoformat(str(entity["updated_at"]).replace("Z", "+00:00"))
