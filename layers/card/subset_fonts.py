"""Subset the card's fallback fonts into the CardLayer: ``python subset_fonts.py <installed> <out>``.

Run by layers/card/Makefile at build time with fonts.txt installed in ``<installed>`` (a scratch folder);
writes ``<out>/`` (the ``atribuo_card_fonts`` package that shared.public.png finds on the path):

* ``NotoSansCJKsc-Regular.subset.otf``: the "Noto Sans CJK SC" face of Noto Sans CJK Regular, cut to the
  characters of the national standard character sets, computed here from Python's own codecs so the
  coverage is exact and reproducible: every hanzi of GB 2312 (6 763, simplified Chinese), every kanji of
  JIS X 0208 (6 355, Japanese), the 5 401 frequent hanzi of Big5 level 1 (traditional Chinese), the
  2 350 Hangul syllables of KS X 1001 (Korean), plus kana, CJK punctuation, Hangul compatibility jamo and
  full-width forms. A rarer character outside these falls back to the .notdef box.
* ``NotoEmoji-Regular.subset.ttf``: Noto Emoji (monochrome outlines, drawn in the text's colour) at weight
  400, every emoji it has, with its ligatures (ZWJ sequences, flags, skin tones).
* ``LICENSE-NotoSansCJK.txt``, ``LICENSE-NotoEmoji.txt``: the fonts' OFL 1.1 licences, as their packages
  ship them.
"""

from __future__ import annotations

import sys
from pathlib import Path

CJK_FACE = "Noto Sans CJK SC"


def _codec_range(codec: str, leads: range, trails: list[int]) -> set[int]:
    found = set()
    for lead in leads:
        for trail in trails:
            try:
                found.update(map(ord, bytes([lead, trail]).decode(codec)))
            except UnicodeDecodeError:
                continue
    return found


def cjk_codepoints() -> list[int]:
    euc = list(range(0xA1, 0xFF))
    han = (_codec_range("gb2312", range(0xB0, 0xF8), euc)  # GB 2312 levels 1 and 2
           | _codec_range("euc_jp", range(0xB0, 0xF5), euc)  # JIS X 0208 levels 1 and 2
           | _codec_range("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)]))  # Big5 level 1
    hangul = _codec_range("euc_kr", range(0xB0, 0xC9), euc)  # KS X 1001 syllables
    blocks = {*range(0x3000, 0x3100), *range(0x3130, 0x3190), *range(0x31F0, 0x3200), *range(0xFF00, 0xFFF0)}
    return sorted(cp for cp in han | hangul | blocks if cp >= 0x2E80)


def main(installed: str, out: str) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont
    from fontTools.varLib import instancer

    source, target = Path(installed), Path(out)
    target.mkdir(parents=True, exist_ok=True)
    (target / "__init__.py").write_text('"""The card\'s CJK and emoji fonts (layers/card/subset_fonts.py)."""\n')

    options = subset.Options()
    options.name_IDs = ["*"]  # the copyright and licence records stay
    options.notdef_outline = True
    options.hinting = False  # resvg does not hint
    collection = TTCollection(str(source / "noto_cjk_sans_otc" / "NotoSansCJK-Regular.ttc"))
    options.font_number = next(i for i, font in enumerate(collection.fonts)
                               if font["name"].getDebugName(4) == CJK_FACE)
    options.layout_features = []
    cjk = subset.load_font(str(source / "noto_cjk_sans_otc" / "NotoSansCJK-Regular.ttc"), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=cjk_codepoints())
    subsetter.subset(cjk)
    subset.save_font(cjk, str(target / "NotoSansCJKsc-Regular.subset.otf"), options)

    emoji = instancer.instantiateVariableFont(TTFont(str(source / "manimgx_fonts" / "NotoEmoji[wght].ttf")),
                                              {"wght": 400})
    options = subset.Options()
    options.name_IDs, options.notdef_outline, options.hinting, options.layout_features = ["*"], True, False, ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=list(emoji.getBestCmap()))
    subsetter.subset(emoji)
    subset.save_font(emoji, str(target / "NotoEmoji-Regular.subset.ttf"), options)

    for package, name in (("noto_cjk_sans_otc", "NotoSansCJK"), ("manimgx_fonts", "NotoEmoji")):
        licence = next(source.glob(f"{package}-*.dist-info/licenses/LICENSE"))
        (target / f"LICENSE-{name}.txt").write_text(licence.read_text())


if __name__ == "__main__":
    main(*sys.argv[1:3])
