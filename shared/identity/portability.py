"""Leave with your data (issue 15): the account as one JSON document, and its level history as CSV.

Both are produced page by page (``repositories.exports``) as a stream of chunks, so memory stays
flat whatever the account's size; the JSON is valid and complete only at its last chunk. What is in
it: the profile and settings, every skill (with its goal), the full level history (superseded levels included),
the sync conflicts, and the sessions (devices) with their revocation times. ``import_account`` puts
such a document into an empty account through the ordinary write paths (sessions excepted: they are
the old account's signed-in devices, never made live in another).
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
from shared.models.accounts import AccountImport, ExportLinkPublic, ImportPublic
from shared.repositories import exports, operations, profiles, skills
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


def _map_ids(value: dict[str, Any] | None, ids: dict[str, str]) -> dict[str, Any] | None:
    """A conflict's winner/loser with the old account's ids (its skill, or the user) made this one's."""
    if value is None:
        return None
    return {**value, "id": ids.get(str(value["id"]), value["id"])} if "id" in value else value


def import_account(user_id: uuid.UUID, document: AccountImport) -> ImportPublic:
    """Replay an export into an empty account through the ordinary write statements (each bumps the
    version and logs its change; the user's devices are told after the commit), in one transaction.

    The history is replayed in its own order: each skill is created at its first level (with that
    note), then every later level change is applied with its note; a superseded level (an offline
    edit that lost a conflict, never the skill's level) is kept in the history by the statement the
    offline batch uses, so the history round-trips whole. Every replayed history row then gets its
    original date back (one statement), so "my level on 1 March" answers as before. Conflicts come in
    as acknowledged records (their devices belong to the old account); sessions never do. Goals are
    set after the levels, as they stand in the document (a reached one keeps its ``reached_at``).
    The settings are applied as a profile write, and the achievements the imported history earns
    are awarded at the end, in the same transaction. Idempotent: a second run of the same document finds
    its skills and changes nothing; any other skill in the account makes it a 409 (an import never
    merges into existing data).
    """
    ids = {skill.id: _imported_id(user_id, skill.id) for skill in document.skills}
    by_id = {skill.id: skill for skill in document.skills}
    history = [level for level in document.history if level.skill_id in ids]
    applied = sum(1 for level in history if not level.superseded)
    changes: list[dict[str, Any]] = []
    times: list[str | None] = []  # the date of each history row the replay writes, in order
    with db.transaction() as conn:
        existing = exports.skill_ids(conn, user_id)
        if existing:
            if existing == set(ids.values()):
                return ImportPublic(imported=False, skills=len(ids), levels=applied)
            raise ConflictError("an import needs an account without skills", code="account_not_empty")
        current: dict[uuid.UUID, int] = {}
        waiting: dict[uuid.UUID, list[Any]] = {}  # superseded levels listed before their skill's first level
        for step in history:
            if step.superseded:
                if step.skill_id in current:
                    operations.keep_superseded_level(conn, user_id, ids[step.skill_id], step.new_level, step.note)
                    times.append(_iso(step.created_at))
                else:
                    waiting.setdefault(step.skill_id, []).append(step)
                continue
            if step.skill_id not in current:
                skill = by_id[step.skill_id]
                result = skills.create_skill(conn, user_id, skill_id=ids[skill.id], name=skill.name,
                                             category=skill.category, level=step.new_level,
                                             description=skill.description, note=step.note)
            else:
                result = skills.update_skill(conn, user_id, ids[step.skill_id], {"level": step.new_level},
                                             note=step.note)
            times.append(_iso(step.created_at))
            current[step.skill_id] = step.new_level
            changes.append(result.change)
            for late in waiting.pop(step.skill_id, []):
                operations.keep_superseded_level(conn, user_id, ids[late.skill_id], late.new_level, late.note)
                times.append(_iso(late.created_at))
        for skill in document.skills:
            if skill.id not in current:  # no history in the document: created at its level
                changes.append(skills.create_skill(conn, user_id, skill_id=ids[skill.id], name=skill.name,
                                                   category=skill.category, level=skill.level,
                                                   description=skill.description).change)
                times.append(None)
                for late in waiting.pop(skill.id, []):
                    operations.keep_superseded_level(conn, user_id, ids[skill.id], late.new_level, late.note)
                    times.append(_iso(late.created_at))
            elif current[skill.id] != skill.level:  # a history cut short: end at the skill's level
                changes.append(skills.update_skill(conn, user_id, ids[skill.id], {"level": skill.level}).change)
                times.append(None)
        if any(times):
            exports.restamp_history(conn, user_id, times)
        mapped = {str(old): str(new) for old, new in ids.items()}
        mapped.update({str(c.entity_id): str(user_id) for c in document.conflicts if c.entity == "profile"})
        exports.import_conflicts(conn, user_id, [
            {**conflict.model_dump(mode="json"), "entity_id": mapped[str(conflict.entity_id)],
             "winner": _map_ids(conflict.winner, mapped), "loser": _map_ids(conflict.loser, mapped)}
            for conflict in document.conflicts if str(conflict.entity_id) in mapped])
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
        settings = {**document.profile.model_dump(exclude_none=True), **document.settings.model_dump(exclude_none=True)}
        if settings:
            changes.append(profiles.update_profile(conn, user_id, settings).change)
        changes += awards.award_now(conn, user_id)  # once, over the whole imported history
    for change in changes:
        if change is not None:
            after_write(user_id, change)
    return ImportPublic(imported=True, skills=len(ids), levels=applied)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- through the bucket (issue 15, ``shared.identity.handoff``) --------------------------------------

def inline_fits(user_id: uuid.UUID) -> bool:
    """Whether GET /me/export may answer with the document itself (estimated under the inline limit)."""
    from shared.core.settings import get_settings

    return db.run(lambda conn: exports.estimated_bytes(conn, user_id)) <= get_settings().export_inline_max_bytes


def export_to_storage(user_id: uuid.UUID, fmt: str) -> ExportLinkPublic:
    """Write the JSON document (or the history CSV) to the bucket and link to it."""
    from shared.identity import handoff

    if fmt == "history_csv":
        username, chunks = export_history_csv(user_id)
        return handoff.store_export(user_id, fmt, f"atribuo-{username}-history.csv", chunks)
    username, chunks = export_json(user_id)
    return handoff.store_export(user_id, fmt, f"atribuo-{username}.json", chunks)


def import_uploaded(user_id: uuid.UUID, key: str) -> ImportPublic:
    """Import the export file uploaded to ``key`` (``handoff.presign_import``), then delete the file."""
    import json

    from pydantic import ValidationError

    from shared.core.i18n import N_
    from shared.identity import handoff

    raw = handoff.read_import(user_id, key)
    try:
        document = AccountImport.model_validate(json.loads(raw))
    except (ValueError, ValidationError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError are
        # ValueErrors; RecursionError is json's answer to deeply nested arrays ("[[[[…": 16 MiB fit many)
        errors = exc.errors(include_url=False, include_context=False, include_input=False) \
            if isinstance(exc, ValidationError) else []
        details = [{"field": "file." + ".".join(str(part) for part in error["loc"]), "message": error["msg"],
                    "type": error["type"]} for error in errors[:20]]
        raise ValidationFailedError("the uploaded file is not an Atribuo export this version can read",
                                    details=details or [{"field": "file", "message": N_("not JSON"), "type": "json"}]
                                    ) from exc
    result = import_account(user_id, document)
    handoff.discard_import(key)
    return result
