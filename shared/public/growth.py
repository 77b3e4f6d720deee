"""Growth over time: the character sheet as it was at an instant, and per-week totals per category.

Both replay the user's level history (``shared.repositories.history``, oldest first) once: each
change sets its skill's level; at each requested instant the levels reached so far are summed. A
skill counts from its first recorded level (its creation) on. The category is the skill's current
one (the history records levels, not recategorisations), and a deleted skill's history went with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from shared.models.categories import CATEGORIES
from shared.public.character import build_stats, character_level

# A change: [skill id, category, level, µs since the epoch], oldest first (shared.repositories.history).
Change = Sequence[Any]


def _replay(changes: Iterable[Change], ends: list[int]) -> list[dict[Any, tuple[str, int]]]:
    """For each instant in ``ends`` (ascending, µs), ``{skill_id: (category, level)}`` of the changes before it."""
    states: list[dict[Any, tuple[str, int]]] = []
    levels: dict[Any, tuple[str, int]] = {}
    pending = iter(changes)
    change = next(pending, None)
    for end in ends:
        while change is not None and change[3] < end:
            levels[change[0]] = (change[1], int(change[2]))
            change = next(pending, None)
        states.append(dict(levels))
    return states


def stats_at(changes: Iterable[Change], end: int) -> dict[str, Any]:
    """The character sheet (``build_stats``'s shape) as it stood just before ``end`` (µs)."""
    (levels,) = _replay(changes, [end])
    rows: dict[str, dict[str, Any]] = {}
    for category, level in levels.values():
        row = rows.setdefault(category, {"category": category, "skill_count": 0, "total_level": 0, "max_level": 0})
        row["skill_count"] += 1
        row["total_level"] += level
        row["max_level"] = max(row["max_level"], level)
    return build_stats(rows.values())


def weekly_series(changes: Iterable[Change], mondays: list[date], ends: list[int]) -> list[dict[str, Any]]:
    """One entry per week (its local Monday in ``mondays``, ending at the matching ``ends``): the week's
    Monday and Sunday, the total level and character level, and the total level per category (all
    ten, in the fixed order) at the end of the week."""
    weeks = []
    for monday, levels in zip(mondays, _replay(changes, ends), strict=True):
        by_category = dict.fromkeys(CATEGORIES, 0)
        for category, level in levels.values():
            if category in by_category:  # as build_stats: only the known categories count
                by_category[category] += level
        total = sum(by_category.values())
        weeks.append({"week_start": monday.isoformat(), "week_end": (monday + timedelta(days=6)).isoformat(),
                      "total_level": total, "character_level": character_level(total), "by_category": by_category})
    return weeks
