"""CJK and emoji names on card.png (issue 17): the CardLayer's fallback fonts (layers/card/subset_fonts.py)
have the glyphs, and resvg draws them instead of the .notdef box.

The fonts are the host build of the CardLayer (bench.package_size.layer_dir: the Makefile target ``sam
build`` runs, which installs fonts.txt into a scratch folder and subsets it). The rendering check compares
each character's pixels with those of a character no font maps (U+E000, a private-use code point: the
.notdef box): equal with DejaVu alone (so the check can fail), different with the fallbacks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import resvg_py
from fontTools.ttLib import TTFont

from bench.package_size import host_pythonpath, layer_dir
from local.template import ROOT
from shared.public.card import text
from shared.public.png import FALLBACK_FONTS, FONT_FILES

NAMES = {
    "simplified Chinese": "王小明张伟",
    "traditional Chinese": "陳大文黃誌強",
    "Japanese (kanji and kana)": "山田さくらタロウ",
    "Korean": "김민준이서연",
    "emoji": "🐉🔥😀🎮✨",
    "full-width and CJK punctuation": "\uff21\uff22\u300c\u300d\u30fb",  # full-width A B, corner brackets, middle dot
}
NOTDEF = "\ue000"  # private use: in no font, so every renderer draws .notdef for it


@pytest.fixture(scope="module")
def fallbacks() -> list[str]:
    folder = layer_dir("CardLayer", for_lambda=False) / FALLBACK_FONTS
    return sorted(str(p) for p in folder.iterdir() if p.suffix in (".otf", ".ttf"))


def glyph(char: str, fonts: list[str]) -> bytes:
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="72" height="72"><text x="8" y="56" font-size="48"'
           f' font-family="DejaVu Sans" fill="#000">{text(char)}</text></svg>')
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True, font_files=fonts,
                                       font_family="DejaVu Sans", sans_serif_family="DejaVu Sans"))


def test_the_fallbacks_map_every_character_of_the_names(fallbacks):
    assert [os.path.basename(p) for p in fallbacks] == ["NotoEmoji-Regular.subset.ttf",
                                                         "NotoSansCJKsc-Regular.subset.otf"]
    dejavu = [TTFont(p).getBestCmap() for p in FONT_FILES]
    cmaps = [TTFont(p).getBestCmap() for p in fallbacks]
    for kind, name in NAMES.items():
        for char in name:
            assert not any(ord(char) in cmap for cmap in dejavu), (kind, char)  # DejaVu alone draws a box
            assert any(ord(char) in cmap for cmap in cmaps), (kind, char)


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_the_glyphs_drawn_are_not_the_notdef_box(fallbacks, kind):
    box_alone, box_with = glyph(NOTDEF, FONT_FILES), glyph(NOTDEF, [*FONT_FILES, *fallbacks])
    for char in NAMES[kind]:
        assert glyph(char, FONT_FILES) == box_alone, (kind, char)  # without the fallbacks: the box
        assert glyph(char, [*FONT_FILES, *fallbacks]) != box_with, (kind, char)


def test_the_fonts_ship_with_their_licences(fallbacks):
    folder = layer_dir("CardLayer", for_lambda=False) / FALLBACK_FONTS
    for name in ("LICENSE-NotoSansCJK.txt", "LICENSE-NotoEmoji.txt"):
        assert "SIL OPEN FONT LICENSE VERSION 1.1" in (folder / name).read_text().upper()
    for path in fallbacks:
        names = TTFont(path)["name"]  # the subsets keep the fonts' own copyright, trademark and licence records
        assert "Noto is a trademark of Google" in names.getDebugName(7)
        assert "SIL Open Font License, Version 1.1" in names.getDebugName(13)


CARD_PROBE = """
import json
from shared.public.card import render_card
from shared.public.character import build_stats
from shared.public.png import font_files, render_png
pngs = [render_png(render_card({"username": "probe", "display_name": name}, build_stats([])))
        for name in ("山田太郎 🐉", "\\ue000\\ue000\\ue000\\ue000 \\ue000")]
print(json.dumps({"fonts": [f.rsplit("/", 1)[1] for f in font_files()], "differ": pngs[0] != pngs[1]}))
"""


def test_card_png_draws_with_the_fallbacks_in_the_profiles_function():
    """In the profiles function's own environment (its layers only), card.png finds the fallbacks, and a
    CJK + emoji name is drawn differently from the same number of .notdef boxes."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": host_pythonpath(
        "ProfilesFunction")}
    done = subprocess.run([sys.executable, "-S", "-c", CARD_PROBE], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"fonts": ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "NotoEmoji-Regular.subset.ttf",
                                "NotoSansCJKsc-Regular.subset.otf"], "differ": True}
