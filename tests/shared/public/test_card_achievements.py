"""The card's row of top achievements: the highest tiers first, measured to fit, never over the radar."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from shared.models.achievements import BY_CODE, CATALOGUE
from shared.public import card
from shared.public.card import render_card
from shared.public.character import aggregate, build_stats

SVG_NS = "{http://www.w3.org/2000/svg}"
STATS = build_stats(aggregate([{"category": "programming", "level": 10}, {"category": "music", "level": 5}]))


def elements(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG
    return {t.get("class") or "".join(t.itertext()): t for t in root.iter(f"{SVG_NS}text")}


def box(element: ET.Element) -> card.Box:
    size = float(element.get("font-size"))
    width = card.measure("".join(element.itertext()), size, bold=element.get("font-weight") == "700")
    return card.box(float(element.get("x")), float(element.get("y")), width, size, element.get("text-anchor", "start"))


def test_the_top_three_achievements_by_tier_fit_beside_the_radar_and_overlap_nothing():
    every = [a.code for a in CATALOGUE]
    svg = render_card({"username": "player_one", "display_name": "W" * 60, "achievements": every}, STATS)
    texts = elements(svg)
    badges = texts["badges"]
    shown = "".join(badges.itertext())
    assert BY_CODE["skill_level_10"].name in shown  # gold tier first, in catalogue order
    assert BY_CODE["first_skill"].name not in shown  # bronze ones give way
    drawn = box(badges)
    every_text = list(ET.fromstring(svg).iter(f"{SVG_NS}text"))  # noqa: S314 - our own SVG
    labels = [box(t) for t in every_text if t.get("class") == "axis"]
    assert len(labels) == 10 and not any(drawn.overlaps(label) for label in labels)
    others = [box(t) for t in every_text if t.get("class") not in ("axis", "badges")]
    assert not any(drawn.overlaps(other) for other in others), shown
    assert drawn.x0 + card.measure(shown, card.BADGES_SIZE) <= card.LEFT + card.room(card.BADGES_Y, card.BADGES_SIZE)


def test_no_achievements_no_row_and_unknown_codes_are_ignored():
    assert "badges" not in elements(render_card({"username": "player_one", "achievements": []}, STATS))
    assert "badges" not in elements(render_card({"username": "player_one", "achievements": ["retired"]}, STATS))
