"""The fixed set of skill categories: lower-case slugs, in the order the radar chart draws its axes.

A closed set (rather than free text) keeps every character sheet comparable: the radar always has the
same ten axes in the same order, the leaderboard can rank within a category, and a typo cannot create
an eleventh axis. Adding a category is a product decision: append it here (never reorder) and
document it in docs/skills.md.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """What a skill is about. The value is the slug stored in ``skills.category``."""

    PROGRAMMING = "programming"  # software, data, computing
    LANGUAGES = "languages"  # human languages, spoken or written
    MUSIC = "music"  # instruments, singing, composition
    FITNESS = "fitness"  # sport, endurance, strength, movement
    ART = "art"  # drawing, painting, photography, design, writing
    SCIENCE = "science"  # natural sciences, mathematics, engineering theory
    CRAFT = "craft"  # making things by hand: woodwork, sewing, electronics, repair
    SOCIAL = "social"  # communication, leadership, teaching, negotiation
    MIND = "mind"  # focus, memory, meditation, strategy games
    LIFE = "life"  # cooking, finance, gardening, household


CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
