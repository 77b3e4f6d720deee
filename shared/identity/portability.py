"""Leave with your data (issue 15): the account as one JSON document, and its level history as CSV.

Both are produced page by page (``repositories.exports``) as a stream of chunks, so memory stays
flat whatever the account's size; the JSON is valid and complete only at its last chunk. What is in
it: the profile and settings, every skill (with its goal), the full level history (superseded levels included),
the sync conflicts, and the sessions (devices) with their revocation times. ``import_account`` puts
such a document into an empty account through the ordinary write paths.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from shared.clients import db
from shared.core.encoding import json_bytes
from shared.core.errors import ConflictError, UnauthorizedError, ValidationFailedError
from shared.models.accounts import AccountImport, ImportPublic
from shared.repositories import exports, profiles, skills
from shared.sync import awards
from shared.sync.notify import after_write

FORMAT, VERSION = "atribuo-export", 1
PAGE_ROWS = 500
SETTINGS = ("privacy_settings", "timezone", "digest_opt_out", "locale")
CSV_COLUMNS = ("id", "created_at", "skill", "category", "previous_level", "new_level", "superseded", "note")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas


def _pages(section: str, user_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    after = None
    while True:
        rows = db.run(lambda conn, a=after: exports.page(conn, section, user_id, a, PAGE_ROWS))
        yield from (row["item"] for row in rows)
        if len(rows) < PAGE_ROWS:
            return
        after = rows[-1]["id"]


def _profile(user_id: uuid.UUID) -> dict[str, Any]:
    row = db.run(lambda conn: exports.profile(conn, user_id))
    if row is None:
        raise UnauthorizedError("this account no longer exists")
    return row["profile"]


def export_json(user_id: uuid.UUID) -> tuple[str, Iterator[bytes]]:
    """(username, the document's chunks). The account is checked before the first chunk."""
    profile = _profile(user_id)

    def chunks() -> Iterator[bytes]:
        head = {"format": FORMAT, "version": VERSION, "exported_at": datetime.now(UTC).isoformat(),
                "profile": profile, "settings": {key: profile[key] for key in SETTINGS}}
        yield json_bytes(head)[:-1]  # the object stays open for the sections
        for section in ("skills", "history", "conflicts"):
            yield f',"{section}":['.encode()
            for n, item in enumerate(_pages(section, user_id)):
                yield (b"," if n else b"") + json_bytes(item)
            yield b"]"
        yield b',"sessions":' + json_bytes(db.run(lambda conn: exports.sessions(conn, user_id))) + b"}"

    return profile["username"], chunks()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def export_history_csv(user_id: uuid.UUID) -> tuple[str, Iterator[bytes]]:
    """(username, the CSV's chunks): one row per level change, superseded ones marked."""
    profile = _profile(user_id)

    def chunks() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for item in _pages("history", user_id):
            writer.writerow([_cell(item[column]) for column in CSV_COLUMNS])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    return profile["username"], chunks()


IMPORT_NAMESPACE = uuid.UUID("6f1f4f39-2b0e-4d3c-9a57-8a8f0f3c1b15")


def _imported_id(user_id: uuid.UUID, exported_id: uuid.UUID) -> uuid.UUID:
    """The id an exported skill gets in this account: the same on every run, so a re-run is recognised."""
    return uuid.uuid5(IMPORT_NAMESPACE, f"{user_id}:{exported_id}")


def import_account(user_id: uuid.UUID, document: AccountImport) -> ImportPublic:
    """Replay an export into an empty account through the ordinary write statements (each bumps the
    version and logs its change; the user's devices are told after the commit), in one transaction.

    Each skill is created at the first level of its history (with that note), then every later
    level change is applied in order with its note; superseded levels (offline edits that lost) are
    not replayed: they never were a skill's level. Goals are set after the levels, as they stand in
    the document (a reached one keeps its ``reached_at``). The settings are applied as a profile write,
    and the achievements the imported history earns are awarded at the end, in the same transaction.
    Idempotent: a second run of the same document finds its skills and changes nothing; any other
    skill in the account makes it a 409 (an import never merges into existing data).
    """
    ids = {skill.id: _imported_id(user_id, skill.id) for skill in document.skills}
    by_id = {skill.id: skill for skill in document.skills}
    steps = [level for level in document.history if not level.superseded and level.skill_id in ids]
    changes: list[dict[str, Any]] = []
    with db.transaction() as conn:
        existing = exports.skill_ids(conn, user_id)
        if existing:
            if existing == set(ids.values()):
                return ImportPublic(imported=False, skills=len(ids), levels=len(steps))
            raise ConflictError("an import needs an account without skills", code="account_not_empty")
        current: dict[uuid.UUID, int] = {}
        for step in steps:  # the history in its own order: each skill is created at its first step
            if step.skill_id not in current:
                skill = by_id[step.skill_id]
                result = skills.create_skill(conn, user_id, skill_id=ids[skill.id], name=skill.name,
                                             category=skill.category, level=step.new_level,
                                             description=skill.description, note=step.note)
            else:
                result = skills.update_skill(conn, user_id, ids[step.skill_id], {"level": step.new_level},
                                             note=step.note)
            current[step.skill_id] = step.new_level
            changes.append(result.change)
        for skill in document.skills:
            if skill.id not in current:  # no history in the document: created at its level
                changes.append(skills.create_skill(conn, user_id, skill_id=ids[skill.id], name=skill.name,
                                                   category=skill.category, level=skill.level,
                                                   description=skill.description).change)
            elif current[skill.id] != skill.level:  # a history cut short: end at the skill's level
                changes.append(skills.update_skill(conn, user_id, ids[skill.id], {"level": skill.level}).change)
        for index, skill in enumerate(document.skills):  # goals last: a replayed level must not reach them
            if skill.goal is not None:
                goal = {"target_level": skill.goal.target_level, "target_date": skill.goal.target_date.isoformat()}
                try:
                    changes.append(skills.update_skill(conn, user_id, ids[skill.id], {"goal": goal},
                                                       goal_reached_at=skill.goal.reached_at).change)
                except ValidationFailedError as exc:  # an open goal the skill's level already meets
                    field = f"body.skills.{index}.goal.target_level"
                    raise ValidationFailedError("invalid input: {fields}", params={"fields": field}, details=[
                        {**detail, "field": field} for detail in exc.details or []]) from exc
        settings = document.settings.model_dump(exclude_none=True)
        if settings:
            changes.append(profiles.update_profile(conn, user_id, settings).change)
        changes += awards.award_now(conn, user_id)  # once, over the whole imported history
    for change in changes:
        if change is not None:
            after_write(user_id, change)
    return ImportPublic(imported=True, skills=len(ids), levels=len(steps))
