"""``card.png``: the SVG card rendered at Open Graph size (1200 x 630) by resvg.

Social sites (Discord, X, Facebook, Slack, WhatsApp) ignore SVG in link previews, so the card is also
served as a PNG drawn from the very same SVG document. resvg (through ``resvg-py``, a Rust renderer
with no system dependencies, in the profiles function's CardLayer) draws with the two DejaVu Sans
files in ``fonts/`` and never the system's: Lambda images have no fonts, and the card's text was
measured with exactly these (``shared.public.card``). It loads on first use, never at import.

Names in Chinese, Japanese, Korean or emoji (issue 17): DejaVu has none of their glyphs, so the CardLayer
also carries subsets of Noto Sans CJK SC and Noto Emoji (the ``atribuo_card_fonts`` folder that
layers/card/subset_fonts.py writes at build time; what they cover is said there). resvg falls back to them
for every character DejaVu lacks. Where that folder is not on the path (``make dev`` and the unit tests,
which run without the layer build), those characters are drawn as boxes, as before.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from shared.public.card import HEIGHT, WIDTH

PNG_WIDTH, PNG_HEIGHT = 1200, 630
FONTS = Path(__file__).resolve().parent / "fonts"
BACKGROUND = "#0f172a"  # the card's own, behind its rounded corners (previews show no transparency well)
FONT_FILES = [str(FONTS / "DejaVuSans.ttf"), str(FONTS / "DejaVuSans-Bold.ttf")]
FALLBACK_FONTS = "atribuo_card_fonts"  # the CardLayer's CJK and emoji subsets (layers/card/subset_fonts.py)
assert WIDTH * PNG_HEIGHT == HEIGHT * PNG_WIDTH, "the card must have the Open Graph shape"


def render_png(svg: str) -> bytes:
    """The PNG (1200 x 630, RGBA) of the card ``svg``; ValueError when resvg refuses the document."""
    import resvg_py

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, width=PNG_WIDTH, height=PNG_HEIGHT, background=BACKGROUND,
                                       skip_system_fonts=True,
                                       font_files=font_files(), font_family="DejaVu Sans",
                                       sans_serif_family="DejaVu Sans"))


@cache
def font_files() -> list[str]:
    """DejaVu Sans (regular, bold), then the CJK and emoji fallbacks when the CardLayer's folder is there."""
    spec = importlib.util.find_spec(FALLBACK_FONTS)
    folders = list(spec.submodule_search_locations or []) if spec else []
    fallbacks = sorted(str(p) for folder in folders for p in Path(folder).iterdir() if p.suffix in (".otf", ".ttf"))
    return [*FONT_FILES, *fallbacks]
