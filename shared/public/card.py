"""The shareable character card: an SVG radar chart built as a string (no drawing library to load).

Everything user-controlled (display name, username) is XML-escaped, and characters XML 1.0 forbids
are removed, so a name like ``<script>…`` is drawn as text and the document always parses. The
card is a fixed 600 x 315 canvas (the Open Graph 1.91:1 shape, so ``card.png`` is exactly this card at
2x, 1200 x 630); the radar has one axis per category in the fixed category order.

Colours are presentation attributes and there is no ``<style>``: a CSS rule would beat a ``fill``
attribute (that is how the gold level number once came out white).

Text that fits, by measurement: every text's width is the sum of its characters' advance widths in
DejaVu Sans (``shared.public.font_metrics``, generated from the font files in ``fonts/``, which are
the only fonts ``card.png`` is rendered with, so the PNG draws exactly what was measured). Kerning is
ignored, which only ever narrows real text, so a measured width is an upper bound. In a browser the
SVG names DejaVu Sans first; where it is missing, the fallbacks (Segoe UI, Ubuntu, Arial) are narrower
for Latin text. A character the fonts lack is counted as ``UNKNOWN_EM`` em, wider than CJK ideographs
(1 em) and emoji. The name gets the largest size from NAME_SIZES at which it fits the room left of
the radar's labels; at the smallest size it is shortened with an ellipsis until it fits.

The avatar (issue 17): when the user has one, its 128 px WebP size is embedded as a ``data:`` image in
a circle at the top left (64 px here, so 128 px in the 2x ``card.png``), and the name and handle start
right of it. The card never references a URL: resvg draws only what the document carries, and the SVG
served to browsers loads nothing (its CSP allows ``data:`` images and nothing else).
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from shared.models.categories import CATEGORIES
from shared.public import font_metrics

WIDTH, HEIGHT = 600, 315
CENTER_X, CENTER_Y, RADIUS = 430, 160, 105
LABEL_RADIUS = 1.22  # axis labels sit at 1.22 x the radius
MAX_LEVEL = 10
RINGS = (2, 4, 6, 8, 10)
LEFT = 28  # the left panel's texts start here
GAP = 8  # the least room kept between a text's box and an axis label's box
NAME_Y, NAME_SIZES = 58, (22, 21, 20, 19, 18, 17, 16)
HANDLE_Y, HANDLE_SIZE = 84, 14
AVATAR_X, AVATAR_Y, AVATAR_SIZE = LEFT, 24, 64  # the avatar's square (drawn as the circle inside it)
AVATAR_GAP = 14  # between the avatar and the name/handle
AXIS_SIZE = 11
UNKNOWN_EM = 1.25
ELLIPSIS = "…"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
FONT = "font-family=\"'DejaVu Sans', 'Segoe UI', Ubuntu, Arial, sans-serif\""
TEXT_FILL, AXIS_FILL, GOLD = "#e2e8f0", "#94a3b8", "#facc15"


@dataclass(frozen=True)
class Box:
    """A text's extent on the canvas: x0..x1 from its anchor and measured width, y0..y1 from ascent/descent."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1


def clean(value: str) -> str:
    return _NOT_XML.sub("", value)


def text(value: str) -> str:
    """``value`` safe inside an element or a double-quoted attribute."""
    return escape(clean(value), {'"': "&quot;"})


def measure(value: str, size: float, *, bold: bool = False) -> float:
    """The advance width of ``value`` at ``size`` px in DejaVu Sans (bold or regular), in px."""
    advances = font_metrics.ADVANCES["bold" if bold else "regular"]
    unknown = UNKNOWN_EM * font_metrics.UNITS_PER_EM
    return sum(advances.get(ord(ch), unknown) for ch in value) * size / font_metrics.UNITS_PER_EM


def box(x: float, y: float, width: float, size: float, anchor: str = "start") -> Box:
    """The box of a text drawn at baseline ``y`` with ``anchor`` at ``x``."""
    x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    em = font_metrics.UNITS_PER_EM
    return Box(x0, y - size * font_metrics.ASCENT / em, x0 + width, y + size * font_metrics.DESCENT / em)


def _point(axis: int, value: float) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * axis / len(CATEGORIES)
    distance = RADIUS * value / MAX_LEVEL
    return CENTER_X + distance * math.cos(angle), CENTER_Y + distance * math.sin(angle)


def _label(axis: int) -> tuple[float, float, str]:
    """(x, baseline y, text-anchor) of an axis label."""
    lx, ly = _point(axis, MAX_LEVEL * LABEL_RADIUS)
    anchor = "middle" if abs(lx - CENTER_X) < 10 else ("start" if lx > CENTER_X else "end")
    return lx, ly + 4, anchor


def label_boxes() -> list[Box]:
    """The boxes of the radar's axis labels, measured as the name is."""
    return [box(x, y, measure(slug, AXIS_SIZE), AXIS_SIZE, anchor)
            for (x, y, anchor), slug in ((_label(i), slug) for i, slug in enumerate(CATEGORIES))]


def avatar_box() -> Box:
    return Box(AVATAR_X, AVATAR_Y, AVATAR_X + AVATAR_SIZE, AVATAR_Y + AVATAR_SIZE)


def text_left(has_avatar: bool) -> float:
    """Where the name and handle start: LEFT, or right of the avatar."""
    return AVATAR_X + AVATAR_SIZE + AVATAR_GAP if has_avatar else LEFT


def room(y: float, size: float, left: float = LEFT) -> float:
    """The widest a text starting at ``left`` on baseline ``y`` may be: up to GAP before the radar's
    outer ring, and before the first axis label whose band (plus GAP) it shares."""
    band = box(left, y, 1, size)
    limit = min(_point(i, MAX_LEVEL)[0] for i in range(len(CATEGORIES))) - GAP
    for label in label_boxes():
        if label.y0 < band.y1 + GAP and band.y0 - GAP < label.y1 and label.x0 > left:
            limit = min(limit, label.x0 - GAP)
    return limit - left


def fit(value: str, y: float, sizes: tuple[int, ...], *, bold: bool = False,
        left: float = LEFT) -> tuple[str, int]:
    """``(text, size)``: the largest size at which ``value`` fits its row, else the smallest size and
    ``value`` shortened (at a character, trailing spaces dropped) with an ellipsis until it fits."""
    value = clean(value)
    for size in sizes:
        if measure(value, size, bold=bold) <= room(y, size, left):
            return value, size
    size = sizes[-1]
    limit = room(y, size, left)
    for end in range(len(value) - 1, 0, -1):
        shortened = value[:end].rstrip() + ELLIPSIS
        if measure(shortened, size, bold=bold) <= limit:
            return shortened, size
    return ELLIPSIS, size


def _polygon(values: list[float]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in (_point(i, v) for i, v in enumerate(values)))


def _grid() -> list[str]:
    parts = [f'<polygon points="{_polygon([ring] * len(CATEGORIES))}" fill="none" stroke="#334155"/>'
             for ring in RINGS]
    for i, slug in enumerate(CATEGORIES):
        x, y = _point(i, MAX_LEVEL)
        lx, ly, anchor = _label(i)
        parts.append(f'<line x1="{CENTER_X}" y1="{CENTER_Y}" x2="{x:.1f}" y2="{y:.1f}" stroke="#334155"/>')
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-size="{AXIS_SIZE}"'
                     f' fill="{AXIS_FILL}" class="axis">{text(slug)}</text>')
    return parts


def _avatar(webp: bytes | None) -> list[str]:
    """The avatar as an embedded image clipped to a circle, or nothing (no avatar, or not a WebP)."""
    if not webp or webp[:4] != b"RIFF" or webp[8:12] != b"WEBP":
        return []
    r = AVATAR_SIZE / 2
    cx, cy = AVATAR_X + r, AVATAR_Y + r
    data = base64.b64encode(webp).decode()
    return [f'<clipPath id="avatar-clip"><circle cx="{cx}" cy="{cy}" r="{r}"/></clipPath>',
            f'<image x="{AVATAR_X}" y="{AVATAR_Y}" width="{AVATAR_SIZE}" height="{AVATAR_SIZE}"'
            f' preserveAspectRatio="xMidYMid slice" clip-path="url(#avatar-clip)" class="avatar"'
            f' href="data:image/webp;base64,{data}"/>',
            f'<circle cx="{cx}" cy="{cy}" r="{r - 0.5}" fill="none" stroke="#334155"/>']


def render_card(profile: dict[str, Any], stats: dict[str, Any], avatar: bytes | None = None) -> str:
    """The SVG document for a public ``profile`` (username, display_name) and its ``stats``, with the
    ``avatar`` (its 128 px WebP bytes) when there is one."""
    drawn_avatar = _avatar(avatar)
    left = text_left(bool(drawn_avatar))
    full_name = profile.get("display_name") or profile["username"]
    name, name_size = fit(full_name, NAME_Y, NAME_SIZES, bold=True, left=left)
    handle, handle_size = fit("@" + profile["username"], HANDLE_Y, (HANDLE_SIZE,), left=left)
    values = [min(float(v), MAX_LEVEL) for v in stats["radar"]["values"]]
    title = text(f"{full_name} — character level {stats['character_level']}")
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-label="{title}">',
        f"<title>{title}</title>",
        f'<g {FONT} fill="{TEXT_FILL}">',
        f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="{HEIGHT - 1}" rx="12" fill="#0f172a" stroke="#1e293b"/>',
        *drawn_avatar,
        f'<text x="{left}" y="{NAME_Y}" font-size="{name_size}" font-weight="700" class="name">{text(name)}</text>',
        f'<text x="{left}" y="{HANDLE_Y}" font-size="{handle_size}" fill="{AXIS_FILL}" class="handle">'
        f"{text(handle)}</text>",
        f'<text x="{LEFT}" y="148" font-size="15">Character level</text>',
        f'<text x="{LEFT}" y="198" font-size="48" font-weight="700" fill="{GOLD}" class="level">'
        f'{stats["character_level"]}</text>',
        f'<text x="{LEFT}" y="236" font-size="14" fill="{AXIS_FILL}">Total level {stats["total_level"]}'
        f' · {stats["skill_count"]} skills</text>',
        f'<text x="{LEFT}" y="286" font-size="11" fill="{AXIS_FILL}">atribuo</text>',
        *_grid(),
        f'<polygon points="{_polygon(values)}" fill="#38bdf8" fill-opacity="0.35" stroke="#38bdf8"'
        f' stroke-width="2"/>',
        "</g></svg>",
    ])
