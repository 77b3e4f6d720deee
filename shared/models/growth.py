"""Growth over time on the wire (issue 17): GET /me/stats/series answers per-week totals."""

from __future__ import annotations

from pydantic import BaseModel

from shared.models.categories import Category


class WeekTotals(BaseModel):
    week_start: str  # the week's Monday (a local date in the user's timezone)
    week_end: str  # its Sunday; the totals are as they stood at the end of it
    total_level: int
    character_level: int
    by_category: dict[Category, int]  # all ten categories, in the radar's order


class GrowthSeries(BaseModel):
    timezone: str
    weeks: list[WeekTotals]
