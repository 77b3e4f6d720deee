"""The achievement catalogue: stable codes, names, descriptions, and the rule that earns each one.

Like ``categories``, a closed set in code: a code is stored in ``user_achievements.code`` and in
every device's change log, so codes are never renamed or reused (retire one by keeping it here).

A rule is data: ``fact >= threshold``, where a fact is one number computed in SQL from the user's
own rows (``shared.repositories.achievements.FACTS``: skills, non-superseded level history), so an
award is evaluated in O(that user) inside the write that earns it. Adding an achievement on an
existing fact is one ``Achievement(...)`` entry; a new kind of rule is one more fact expression in
``FACTS`` plus its entries (as ``goal_reached`` was added for goals, migration 016: fact
``goals_reached`` = the user's skills whose goal a level-up reached).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from shared.core.i18n import N_
from shared.models.categories import CATEGORIES
from shared.models.common import TimestampText, UuidText


@dataclass(frozen=True)
class Achievement:
    """One catalogue entry. ``tier`` (1 bronze … 3 gold) orders the card's "top achievements"."""

    code: str
    name: str  # English, marked for translation: shown through shared.core.i18n._ in the reader's language
    description: str
    fact: str
    threshold: int
    tier: int = 1


CATALOGUE: tuple[Achievement, ...] = (
    Achievement("first_skill", N_("First step"), N_("Add your first skill."), "skills", 1),
    Achievement("five_skills", N_("Collector"), N_("Track five skills."), "skills", 5),
    Achievement("first_level_up", N_("Level up!"), N_("Raise a skill by a level for the first time."), "level_ups", 1),
    Achievement("level_ups_25", N_("Dedicated"), N_("Level up 25 times."), "level_ups", 25, 2),
    Achievement("skill_level_5", N_("Adept"), N_("Reach level 5 in a skill."), "top_level", 5),
    Achievement("skill_level_10", N_("Master"), N_("Reach level 10 in a skill."), "top_level", 10, 3),
    Achievement("all_categories", N_("Renaissance"), N_("Have a skill in every category."),
                "categories", len(CATEGORIES), 3),
    Achievement("character_level_5", N_("Seasoned"), N_("Reach character level 5."), "character_level", 5, 2),
    Achievement("character_level_10", N_("Legend"), N_("Reach character level 10."), "character_level", 10, 3),
    Achievement("busy_week", N_("Busy week"), N_("Level up 5 times in one week."), "best_week_level_ups", 5, 2),
    Achievement("streak_4_weeks", N_("On a roll"), N_("Make progress 4 weeks in a row."), "week_streak", 4, 2),
    Achievement("streak_12_weeks", N_("Unstoppable"), N_("Make progress 12 weeks in a row."), "week_streak", 12, 3),
    Achievement("goal_reached", N_("Goal getter"), N_("Reach the target level you set for a skill."),
                "goals_reached", 1, 2),
)
BY_CODE: dict[str, Achievement] = {a.code: a for a in CATALOGUE}
ORDER: dict[str, int] = {a.code: i for i, a in enumerate(CATALOGUE)}


def top(codes: list[str], limit: int = 3) -> list[Achievement]:
    """The ``limit`` most prestigious of ``codes`` (highest tier, then catalogue order); unknown codes skipped."""
    known = [BY_CODE[c] for c in codes if c in BY_CODE]
    return sorted(known, key=lambda a: (-a.tier, ORDER[a.code]))[:limit]


class AchievementEarned(BaseModel):
    """An award: what ``GET /me/achievements`` lists and a change-log entry (``entity: "achievement"``) carries."""

    id: UuidText = Field(description="The award's id (the change log's entity_id)")
    code: str
    awarded_at: TimestampText


class AchievementInfo(BaseModel):
    code: str
    name: str
    description: str
    tier: int = Field(ge=1, le=3, description="1 bronze, 2 silver, 3 gold")
    rarity: float | None = Field(description="Share of all users holding it, in percent (one decimal), from the "
                                             "daily maintenance run; null until computed or while fewer than a "
                                             "minimum number of users hold it (never an identifiable count)")
    earned: bool


class MyAchievements(BaseModel):
    earned: list[AchievementEarned] = Field(description="Newest first")
    catalogue: list[AchievementInfo]
