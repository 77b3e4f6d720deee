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

from pydantic import ValidationError

from shared.clients import db
from shared.core.errors import AppError
from shared.models.sync import BatchResult, Operation, OperationResult, ProfileOperation, SkillOperation, SyncBatch
from shared.public import privacy
from shared.repositories import conflicts, operations, profiles, skills, users
from shared.repositories.sql import WriteResult

Row = dict[str, Any]


@dataclass
class Outcome:
    """What one operation did, and what to announce once it has committed."""

    result: OperationResult
    changes: list[Row] = field(default_factory=list)
    conflicts: list[Row] = field(default_factory=list)
    written: WriteResult | None = None  # a skill update's write, for the LevelUps metric once committed


def parse(raw: Any, index: int, seen: set[str]) -> Operation | OperationResult:
    """The operation at ``index``, or its ``rejected`` result naming each bad field as a 422 would
    (``body.operations.<index>.<field>``); a repeated ``op_id`` is rejected after its first use."""
    op_id = raw.get("op_id") if isinstance(raw, dict) and isinstance(raw.get("op_id"), str) else None
    is_profile = isinstance(raw, dict) and str(raw.get("type", "")).startswith("profile.")
    model: type[SkillOperation] | type[ProfileOperation] = ProfileOperation if is_profile else SkillOperation
    prefix: tuple[Any, ...] = ()
    try:
        op = model.model_validate(raw)
        prefix = ("data",)
        op.check_data()
    except ValidationError as exc:
        return _rejected(op_id, index, [(prefix + tuple(e["loc"]), e["msg"], e["type"]) for e in exc.errors()])
    except ValueError as exc:
        return _rejected(op_id, index, [(("data",), str(exc), "value_error")])
    if op.op_id in seen:
        return _rejected(op_id, index, [(("op_id",), "op_id values must be unique within a batch", "duplicate")])
    seen.add(op.op_id)
    return op


def _rejected(op_id: str | None, index: int, errors: list[tuple[tuple[Any, ...], str, str]]) -> OperationResult:
    details = [{"field": ".".join(str(p) for p in ("body", "operations", index, *loc)), "message": msg, "type": kind}
               for loc, msg, kind in errors]
    error = {"code": "validation_error", "message": f"invalid input: {', '.join(d['field'] for d in details)}",
             "details": details}
    return OperationResult(op_id=op_id, status="rejected", error=error)


def apply_batch(owner_id: uuid.UUID, batch: SyncBatch) -> tuple[BatchResult, list[Outcome]]:
    """Validate each operation, then apply each valid one in its own transaction (claim, apply,
    store result), in order; invalid ones are rejected without being claimed."""
    seen: set[str] = set()
    parsed = [parse(raw, index, seen) for index, raw in enumerate(batch.operations)]
    outcomes = [Outcome(op) if isinstance(op, OperationResult) else _apply_once(owner_id, op) for op in parsed]
    version = users.sync_version(db.get_conn(), owner_id) or 0
    return BatchResult(version=version, results=[o.result for o in outcomes]), outcomes


def announce(owner_id: uuid.UUID, outcomes: list[Outcome]) -> None:
    """After the commits: every applied change and every conflict notice goes to the other devices."""
    from shared.sync.notify import after_conflict, after_write, count_level_up

    for outcome in outcomes:
        if outcome.written is not None:
            count_level_up(outcome.written)
        for change in outcome.changes:
            after_write(owner_id, change)
        for notice in outcome.conflicts:
            after_conflict(owner_id, notice)


def _apply_once(owner_id: uuid.UUID, op: Operation) -> Outcome:
    if isinstance(op, ProfileOperation) and privacy.hides(changes := op.update_body().changes()):
        # As PATCH /me/profile: the public copies go first, or a 503 stops the batch here. The
        # operations before this one are committed and replay as such when the device retries.
        privacy.drop_before_hiding(owner_id, changes)
    with db.transaction() as conn:
        if not operations.claim(conn, owner_id, op.op_id):
            stored = OperationResult.model_validate(operations.stored_result(conn, owner_id, op.op_id))
            return Outcome(stored.model_copy(update={"replayed": True}))
        try:
            with conn.transaction():  # a savepoint: a rejected operation still records its result
                at = min(op.updated_at, datetime.now(UTC))
                if isinstance(op, ProfileOperation):
                    outcome = _apply_profile(conn, owner_id, op, at)
                else:
                    outcome = _apply(conn, owner_id, op, at)
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
        notice, version = _log(conn, owner_id, op, "incoming_won", winner=res.entity, loser=current)
        return Outcome(_result(op, "conflict", res.entity, version, "incoming_won"), changes, [notice], res)
    return Outcome(_result(op, res.status, res.entity, res.sync_version), changes, written=res)


def _apply_profile(conn: Any, owner_id: uuid.UUID, op: ProfileOperation, at: datetime) -> Outcome:
    """Field-level last-write-wins: fields written later than ``at`` keep their value; the ones
    that lost are kept as the loser of a recorded conflict (the rest apply)."""
    sent = op.update_body().changes()
    res = profiles.update_profile(conn, owner_id, sent, at=at, op_id=op.op_id)
    changes = [res.change] if res.change else []
    if not res.lost_fields:
        return Outcome(_result(op, res.status, res.entity, res.sync_version), changes)
    loser = {**(res.entity or {}), **{f: sent[f] for f in res.lost_fields}}
    notice, version = _log(conn, owner_id, op, "stored_won", entity="profile", entity_id=owner_id,
                           winner=res.entity, loser=loser)
    return Outcome(_result(op, "conflict", res.entity, version, "stored_won"), changes, [notice])


def _stored_wins(conn: Any, owner_id: uuid.UUID, op: SkillOperation, current: Row, version: int | None) -> Outcome:
    loser = None if op.type == "skill.delete" else {**current, **op.update_body().changes()}
    if loser is not None and loser.get("level") != current.get("level"):
        operations.keep_superseded_level(conn, owner_id, op.skill_id, int(loser["level"]), op.data.get("note"))
    notice, version = _log(conn, owner_id, op, "stored_won", winner=current, loser=loser)
    return Outcome(_result(op, "conflict", current, version, "stored_won"), conflicts=[notice])


def _log(conn: Any, owner_id: uuid.UUID, op: Operation, resolution: str, *, winner: Row | None,
         loser: Row | None, entity: str = "skill", entity_id: uuid.UUID | None = None) -> tuple[Row, int]:
    """Record the conflict (and its change-log entry): the ``conflict`` notice and the new version."""
    from shared.sync.notify import conflict_notice

    target = entity_id if entity_id is not None else getattr(op, "skill_id", None)
    row = conflicts.record(conn, owner_id, entity=entity, entity_id=target, resolution=resolution,  # type: ignore[arg-type]
                           winner=winner, loser=loser, op_id=op.op_id, source="batch")
    return conflict_notice(row["change"]), int(row["sync_version"])


def _result(op: Operation, status: str, entity: Row | None, version: int | None,
            resolution: str | None = None) -> OperationResult:
    return OperationResult(op_id=op.op_id, status=status, entity=entity, version=version,  # type: ignore[arg-type]
                           resolution=resolution)  # type: ignore[arg-type]


def _stamp(entity: Row) -> datetime:
    return datetime.fromisoformat(str(entity["updated_at"]).replace("Z", "+00:00"))
