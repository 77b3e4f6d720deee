"""The shareable character card: an SVG radar chart built as a string (no drawing library to load).

Everything user-controlled (display name, username) is XML-escaped, and characters XML 1.0 forbids
are removed, so a name like ``<script>…`` is drawn as text and the document always parses. The
card is a fixed 600 x 320 canvas; the radar has one axis per category in the fixed category order.
"""

from __future__ import annotations

import math
import re
from typing import Any
from xml.sax.saxutils import escape

from shared.models.categories import CATEGORIES

WIDTH, HEIGHT = 600, 320
CENTER_X, CENTER_Y, RADIUS = 440, 165, 105
MAX_LEVEL = 10
RINGS = (2, 4, 6, 8, 10)
NAME_MAX = 20
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
FONT = "font-family=\"'Segoe UI', 'DejaVu Sans', Ubuntu, sans-serif\""


def text(value: str, limit: int | None = None) -> str:
    """``value`` safe inside an element or a double-quoted attribute, shortened to ``limit`` chars."""
    clean = _NOT_XML.sub("", value)
    if limit and len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return escape(clean, {'"': "&quot;"})


def _point(axis: int, value: float) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * axis / len(CATEGORIES)
    distance = RADIUS * value / MAX_LEVEL
    return CENTER_X + distance * math.cos(angle), CENTER_Y + distance * math.sin(angle)


def _polygon(values: list[float]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in (_point(i, v) for i, v in enumerate(values)))


def _grid() -> list[str]:
    parts = [f'<polygon points="{_polygon([ring] * len(CATEGORIES))}" fill="none" stroke="#334155"/>'
             for ring in RINGS]
    for i, slug in enumerate(CATEGORIES):
        x, y = _point(i, MAX_LEVEL)
        lx, ly = _point(i, MAX_LEVEL * 1.22)
        anchor = "middle" if abs(lx - CENTER_X) < 10 else ("start" if lx > CENTER_X else "end")
        parts.append(f'<line x1="{CENTER_X}" y1="{CENTER_Y}" x2="{x:.1f}" y2="{y:.1f}" stroke="#334155"/>')
        parts.append(f'<text x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="{anchor}" class="axis">{text(slug)}</text>')
    return parts


def render_card(profile: dict[str, Any], stats: dict[str, Any]) -> str:
    """The SVG document for a public ``profile`` (username, display_name) and its ``stats``."""
    name = text(profile.get("display_name") or profile["username"], NAME_MAX)
    handle = text("@" + profile["username"], NAME_MAX + 1)
    values = [min(float(v), MAX_LEVEL) for v in stats["radar"]["values"]]
    title = text(f"{profile.get('display_name') or profile['username']} — character level {stats['character_level']}")
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-label="{title}">',
        f"<title>{title}</title>",
        f"<style>text{{fill:#e2e8f0}} .axis{{font-size:11px;fill:#94a3b8}}</style><g {FONT}>",
        f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="{HEIGHT - 1}" rx="12" fill="#0f172a" stroke="#1e293b"/>',
        f'<text x="28" y="58" font-size="22" font-weight="700">{name}</text>',
        f'<text x="28" y="84" font-size="14" class="axis">{handle}</text>',
        '<text x="28" y="150" font-size="15">Character level</text>',
        f'<text x="28" y="200" font-size="48" font-weight="700" fill="#facc15">{stats["character_level"]}</text>',
        f'<text x="28" y="240" font-size="14" class="axis">Total level {stats["total_level"]}'
        f' · {stats["skill_count"]} skills</text>',
        '<text x="28" y="290" font-size="11" class="axis">atribuo</text>',
        *_grid(),
        f'<polygon points="{_polygon(values)}" fill="#38bdf8" fill-opacity="0.35" stroke="#38bdf8"'
        f' stroke-width="2"/>',
        "</g></svg>",
    ])
