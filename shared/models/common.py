"""Validators every request model shares: NUL refusal, lower-casing, and "omit but never null".

Kept in one place so a rule (Postgres text cannot hold U+0000; a PATCH may omit a field but not
null it) is written once and reads the same in every resource's models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, WithJsonSchema

from shared.core.i18n import N_

# Response fields that hold text Postgres formatted (a uuid, an ISO 8601 timestamp): served as they
# are, documented with their format so generated clients type them.
UuidText = Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]
TimestampText = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


def lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def no_nul(value: str) -> str:
    """Postgres text cannot hold U+0000; refuse it here (422) instead of failing in the driver (500)."""
    if "\x00" in value:
        raise ValueError(N_("must not contain NUL characters"))
    return value


def not_in_the_future(value: Any) -> Any:
    """Imported history keeps its dates, but none can be later than now: a date from the future
    would stamp levels, streaks and reached goals (and the achievements they earn) ahead of time."""
    from datetime import UTC, datetime

    if value > datetime.now(UTC):
        raise ValueError(N_("must not be in the future"))
    return value


# An aware timestamp that already happened (imported history: level-ups, conflicts, reached goals).
PastTimestamp = Annotated[AwareDatetime, AfterValidator(not_in_the_future)]


def refuse_null(value: Any) -> Any:
    """For PATCH bodies: a non-nullable field may be omitted, but an explicit null is an error."""
    if value is None:
        raise ValueError(N_("may be omitted but not null"))
    return value


def omitted_not_null(*names: str) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` for a PATCH model whose ``names`` go through ``refuse_null``: their schema
    says what the server accepts, a value or nothing, not ``anyOf [T, null]`` with a null default."""

    def extra(schema: dict[str, Any]) -> None:
        for name in names:
            prop = schema["properties"][name]
            options = [option for option in prop.pop("anyOf", []) if option != {"type": "null"}]
            prop.update(options[0] if len(options) == 1 else {"anyOf": options} if options else {})
            prop.pop("default", None)

    return extra
