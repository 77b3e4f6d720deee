"""``card.png``: the SVG card rendered at Open Graph size (1200 x 630) by resvg.

Social sites (Discord, X, Facebook, Slack, WhatsApp) ignore SVG in link previews, so the card is also
served as a PNG drawn from the very same SVG document. resvg (through ``resvg-py``, a Rust renderer
with no system dependencies, in the profiles function's CardLayer) draws with the two DejaVu Sans
files in ``fonts/`` and never the system's: Lambda images have no fonts, and the card's text was
measured with exactly these (``shared.public.card``). It loads on first use, never at import.
"""

from __future__ import annotations

from pathlib import Path

from shared.public.card import HEIGHT, WIDTH

PNG_WIDTH, PNG_HEIGHT = 1200, 630
FONTS = Path(__file__).resolve().parent / "fonts"
BACKGROUND = "#0f172a"  # the card's own, behind its rounded corners (previews show no transparency well)
FONT_FILES = [str(FONTS / "DejaVuSans.ttf"), str(FONTS / "DejaVuSans-Bold.ttf")]
assert WIDTH * PNG_HEIGHT == HEIGHT * PNG_WIDTH, "the card must have the Open Graph shape"


def render_png(svg: str) -> bytes:
    """The PNG (1200 x 630, RGBA) of the card ``svg``; ValueError when resvg refuses the document."""
    import resvg_py

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, width=PNG_WIDTH, height=PNG_HEIGHT, background=BACKGROUND,
                                       skip_system_fonts=True,
                                       font_files=FONT_FILES, font_family="DejaVu Sans",
                                       sans_serif_family="DejaVu Sans"))
