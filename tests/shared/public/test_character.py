"""The character level formula and the stats built for the radar."""

from __future__ import annotations

import pytest

from shared.models.categories import CATEGORIES
from shared.public.character import aggregate, build_stats, character_level, next_level_at


@pytest.mark.parametrize(("total", "level"), [(0, 1), (1, 2), (3, 2), (4, 3), (8, 3), (9, 4), (99, 10), (100, 11),
                                              (1000, 32), (-5, 1)])
def test_character_level_is_one_plus_floor_sqrt_of_total(total, level):
    assert character_level(total) == level


def test_next_level_is_reached_exactly_at_the_threshold():
    for total in range(0, 500):
        threshold = next_level_at(total)
        assert threshold > total
        assert character_level(threshold) == character_level(total) + 1
        assert character_level(threshold - 1) == character_level(total)


def test_stats_have_every_category_in_fixed_order():
    skills = [{"category": "music", "level": 4}, {"category": "music", "level": 7}, {"category": "life", "level": 2}]
    stats = build_stats(aggregate(skills))
    assert [c["category"] for c in stats["categories"]] == list(CATEGORIES) == stats["radar"]["axes"]
    music = stats["categories"][CATEGORIES.index("music")]
    assert music == {"category": "music", "skill_count": 2, "total_level": 11, "average_level": 5.5, "max_level": 7}
    assert stats["total_level"] == 13 and stats["character_level"] == 4 and stats["skill_count"] == 3
    assert stats["radar"]["values"][CATEGORIES.index("life")] == 2.0 and stats["radar"]["max"] == 10


def test_categories_are_ten_stable_lowercase_slugs():
    assert len(CATEGORIES) == 10 and all(c.islower() and c.isalpha() for c in CATEGORIES)
    assert CATEGORIES[0] == "programming"  # never reorder: clients plot axes in this order
