"""Achievements as people see them: my list with the catalogue and rarity, and the badges others see.

The catalogue (names, descriptions, tiers) is code (``shared.models.achievements``); the database
gives the awards and the rarity table, so these are pure functions over a repository row.
"""

from __future__ import annotations

from typing import Any

from shared.core.i18n import _
from shared.models.achievements import CATALOGUE, top


def my_achievements(row: dict[str, Any]) -> dict[str, Any]:
    """``GET /me/achievements`` from ``repositories.achievements.mine``'s row: the awards (newest
    first) and the whole catalogue, each entry with its rarity (None: not shown) and whether I hold it;
    names and descriptions in the caller's language (their setting, else Accept-Language)."""
    earned = row["earned"] or []
    held = {award["code"] for award in earned}
    rarity = row["rarity"] or {}
    catalogue = [{"code": a.code, "name": _(a.name), "description": _(a.description), "tier": a.tier,
                  "rarity": float(rarity[a.code]) if a.code in rarity else None, "earned": a.code in held}
                 for a in CATALOGUE]
    return {"earned": earned, "catalogue": catalogue}


def badges(codes: list[str], limit: int = 3) -> list[str]:
    """The names of a profile's top ``limit`` achievements, for the card (English: public views are
    language-neutral, one cached copy for every viewer)."""
    return [a.name for a in top(codes, limit)]
