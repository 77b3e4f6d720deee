"""Validators every request model shares: NUL refusal, lower-casing, and "omit but never null".

Kept in one place so a rule (Postgres text cannot hold U+0000; a PATCH may omit a field but not
null it) is written once and reads the same in every resource's models.
"""

from __future__ import annotations

from typing import Any


def lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def no_nul(value: str) -> str:
    """Postgres text cannot hold U+0000; refuse it here (422) instead of failing in the driver (500)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def refuse_null(value: Any) -> Any:
    """For PATCH bodies: a non-nullable field may be omitted, but an explicit null is an error."""
    if value is None:
        raise ValueError("may be omitted but not null")
    return value
