"""The character sheet: per-category aggregates, total level, character level and radar data.

Character level formula (also in docs/skills.md)::

    character_level = 1 + floor(sqrt(total_level))

where ``total_level`` is the sum of the levels of all of a user's skills. Level L therefore needs a
total of at least (L - 1)²: the first levels come quickly, later ones need ever more skill points,
as in most RPGs, and the level never decreases unless skills do. No skills → level 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import isqrt
from typing import Any

from shared.models.categories import CATEGORIES

MAX_SKILL_LEVEL = 10


def character_level(total_level: int) -> int:
    """``1 + floor(sqrt(total_level))``; integer arithmetic, so exact for any size."""
    return 1 + isqrt(max(total_level, 0))


def next_level_at(total_level: int) -> int:
    """The total level at which the character reaches its next level: ``level²``."""
    return character_level(total_level) ** 2


def build_stats(category_rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The character sheet from per-category aggregates ``{category, skill_count, total_level, max_level}``.

    Every category appears, in the fixed order of ``CATEGORIES``, so a client can plot the radar
    without knowing the set; the radar's value per axis is the category's average level (0 when empty).
    """
    found = {row["category"]: row for row in category_rows}
    categories = []
    for slug in CATEGORIES:
        row = found.get(slug) or {}
        count, total = int(row.get("skill_count") or 0), int(row.get("total_level") or 0)
        categories.append({
            "category": slug,
            "skill_count": count,
            "total_level": total,
            "average_level": round(total / count, 2) if count else 0,
            "max_level": int(row.get("max_level") or 0),
        })
    total_level = sum(c["total_level"] for c in categories)
    return {
        "total_level": total_level,
        "skill_count": sum(c["skill_count"] for c in categories),
        "character_level": character_level(total_level),
        "next_level_at": next_level_at(total_level),
        "categories": categories,
        "radar": {
            "axes": list(CATEGORIES),
            "values": [c["average_level"] for c in categories],
            "metric": "average_level",
            "max": MAX_SKILL_LEVEL,
        },
    }


def aggregate(skills: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-category aggregates (the input of ``build_stats``) from a list of skills' JSON."""
    rows: dict[str, dict[str, Any]] = {}
    for skill in skills:
        row = rows.setdefault(skill["category"], {"category": skill["category"], "skill_count": 0,
                                                  "total_level": 0, "max_level": 0})
        row["skill_count"] += 1
        row["total_level"] += skill["level"]
        row["max_level"] = max(row["max_level"], skill["level"])
    return list(rows.values())
