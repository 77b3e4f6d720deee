"""The SVG card, rendered to pixels by a real SVG renderer (resvg)."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
import resvg_py

from shared.public import card
from shared.public.card import CENTER_X, CENTER_Y, GOLD, HEIGHT, WIDTH, render_card
from shared.public.character import aggregate, build_stats
from shared.public.png import FONT_FILES

SVG_NS = "{http://www.w3.org/2000/svg}"


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGBA bytes) of an 8-bit RGBA PNG, as resvg writes it."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert (depth, color) == (8, 6)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * 4, [], bytearray(width * 4)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 4] if i >= 4 else 0
            b, c = prev[i], prev[i - 4] if i >= 4 else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def card_for(display_name: str) -> str:
    skills = [{"category": "programming", "level": 8}, {"category": "music", "level": 5},
              {"category": "fitness", "level": 3}, {"category": "mind", "level": 9}]
    return render_card({"username": "player_one", "display_name": display_name}, build_stats(aggregate(skills)))


def render(svg: str) -> tuple[int, int, list[bytes]]:
    """Rendered as card.png renders it: the shipped fonts only, never the machine's."""
    return decode_png(bytes(resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True, font_files=FONT_FILES)))


def test_card_renders_to_a_non_blank_picture_of_the_right_size():
    width, height, rows = render(card_for("Player One"))
    assert (width, height) == (WIDTH, HEIGHT) == (600, 315)  # the Open Graph shape, 1.905:1
    pixels = {row[i:i + 4] for row in rows for i in range(0, len(row), 4)}
    assert len(pixels) > 50  # background, grid, filled radar, anti-aliased text: far from one flat colour
    centre_row = rows[CENTER_Y + 2]
    radar_fill = centre_row[(CENTER_X + 2) * 4:(CENTER_X + 3) * 4]
    background = rows[300][100 * 4:101 * 4]
    assert radar_fill != background and radar_fill[3] == 255


def test_hostile_display_name_is_escaped_and_drawn_as_text():
    hostile = '<script>alert("pwned")</script>&'
    svg = card_for(hostile)
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG; parsing proves it well-formed
    assert not list(root.iter(f"{SVG_NS}script"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    title_text = next(t for t in root.iter(f"{SVG_NS}text") if t.get("class") == "name")
    drawn = "".join(title_text.itertext())
    assert drawn.startswith('<script>alert("pw') and drawn.endswith("…")  # shortened to fit, still text
    _, _, with_name = render(svg)
    _, _, without_name = render(card_for(" "))  # a blank name: no glyphs
    name_band = slice(30, 70)  # the rows where the display name is drawn
    assert with_name[name_band] != without_name[name_band]  # the characters were painted as glyphs


def test_characters_xml_forbids_are_removed():
    svg = card_for("bad\x00\x01\x1bname")
    ET.fromstring(svg)  # noqa: S314 - our own SVG
    assert "badname" in svg


# --- the gold level and names that fit (issue 17) -------------------------------------------------------

def texts(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG
    return {t.get("class") or "".join(t.itertext()): t for t in root.iter(f"{SVG_NS}text")}


def test_the_level_number_is_gold_on_the_picture_too():
    """No stylesheet may beat the fill attribute (CSS wins over presentation attributes)."""
    svg = card_for("Player One")
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG
    assert not list(root.iter(f"{SVG_NS}style")) and "style=" not in svg
    level = texts(svg)["level"]
    assert level.get("fill") == GOLD
    _, _, rows = render(svg)
    x, y = int(level.get("x")), int(level.get("y"))
    glyph = [rows[row][col * 4:col * 4 + 4] for row in range(y - 30, y) for col in range(x, x + 30)]
    gold = bytes.fromhex(GOLD[1:])
    assert any(abs(p[0] - gold[0]) < 8 and abs(p[1] - gold[1]) < 8 and abs(p[2] - gold[2]) < 8 for p in glyph)


def text_box(element: ET.Element) -> card.Box:
    """A text element's box from the SVG's own geometry (x, y, anchor, size, weight) and the font metrics."""
    size = float(element.get("font-size"))
    width = card.measure("".join(element.itertext()), size, bold=element.get("font-weight") == "700")
    return card.box(float(element.get("x")), float(element.get("y")), width, size, element.get("text-anchor", "start"))


LONG_NAMES = [
    "Maximilian Alexander Bartholomew von Hohenzollern-Sigmaringen",
    "W" * 100,  # the widest Latin capital, no space to break at
    "Nguyễn Thị Phương Thảo Trần Hoàng Minh Đức",
    "山田太郎山田太郎山田太郎山田太郎山田太郎山田太郎",  # outside the fonts: counted as UNKNOWN_EM
    "🐉🐉🐉🐉🐉🐉🐉🐉🐉🐉🐉🐉🐉🐉🐉🐉🐉🐉",
]


@pytest.mark.parametrize("name", LONG_NAMES)
def test_a_long_name_never_overlaps_the_radar_labels(name):
    svg = card_for(name)
    elements = texts(svg)
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG
    labels = [text_box(t) for t in root.iter(f"{SVG_NS}text") if t.get("class") == "axis"]
    assert len(labels) == 10
    outer_ring = root.find(f"{SVG_NS}g").findall(f"{SVG_NS}polygon")[len(card.RINGS) - 1]
    ring_left = min(float(point.split(",")[0]) for point in outer_ring.get("points").split())
    for kind in ("name", "handle"):
        drawn = text_box(elements[kind])
        assert not any(drawn.overlaps(label) for label in labels), (kind, drawn)
        assert drawn.x1 + card.GAP <= ring_left + 0.1  # and it stays left of the radar itself
    shown = "".join(elements["name"].itertext())
    assert shown.endswith("…") and int(elements["name"].get("font-size")) == card.NAME_SIZES[-1]


def test_a_name_that_fits_keeps_its_size_and_every_character():
    elements = texts(card_for("Player One"))
    assert "".join(elements["name"].itertext()) == "Player One" and elements["name"].get("font-size") == "22"
    middling = "Alexandria Konstantinopoulou"  # too wide at 22 px, fits smaller
    name = texts(card_for(middling))["name"]
    assert "".join(name.itertext()) == middling and 16 <= int(name.get("font-size")) < 22


@pytest.mark.parametrize("value", ["Maximilian Alexander", "WWWWWWWW", "Nguyễn Thị Phương Thảo", "illiterate jiffy"])
def test_measured_widths_bound_what_the_renderer_draws(value):
    """The metric model against the renderer: the ink of the text drawn at 40 px by resvg with the shipped
    fonts never ends right of the measured advance, and fills most of it (the metrics are not a wild guess)."""
    size, x0 = 40, 10
    for bold in (False, True):
        weight = ' font-weight="700"' if bold else ""
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="80"><rect width="1200" height="80"'
               f' fill="#fff"/><text x="{x0}" y="55" font-size="{size}"{weight} font-family="DejaVu Sans"'
               f' fill="#000">{card.text(value)}</text></svg>')
        width, _, rows = render(svg)
        inked = [col for row in rows for col in range(width) if row[col * 4] < 128]
        measured = card.measure(value, size, bold=bold)
        assert max(inked) + 1 <= x0 + measured + 1, (value, bold)
        assert max(inked) + 1 - min(inked) >= 0.85 * measured, (value, bold)


# --- the avatar on the card (issue 17) -----------------------------------------------------------------

def avatar_webp(color: tuple[int, int, int] = (220, 20, 20)) -> bytes:
    from tests.support.images import webp

    return webp(size=(128, 128), color=color)


def test_the_avatar_is_embedded_as_data_and_drawn():
    svg = render_card({"username": "player_one", "display_name": "Player One"},
                      build_stats(aggregate([{"category": "music", "level": 5}])), avatar_webp())
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG
    images = list(root.iter(f"{SVG_NS}image"))
    assert len(images) == 1 and images[0].get("class") == "avatar"
    assert images[0].get("href").startswith("data:image/webp;base64,")
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to fetch
    _, _, rows = render(svg)
    box = card.avatar_box()
    centre = rows[int((box.y0 + box.y1) / 2)][int((box.x0 + box.x1) / 2) * 4:][:4]
    assert centre[0] > 180 and centre[1] < 60 and centre[2] < 60, centre  # the avatar's red, drawn by resvg
    corner = rows[int(box.y0) + 1][(int(box.x0) + 1) * 4:][:4]
    assert not (corner[0] > 180 and corner[1] < 60), corner  # clipped to a circle


@pytest.mark.parametrize("avatar", [None, b"", b"\x89PNG\r\n\x1a\n" + bytes(40), b"<svg/>"])
def test_no_avatar_or_anything_but_webp_draws_no_image(avatar):
    svg = render_card({"username": "player_one", "display_name": "Player One"}, build_stats([]), avatar)
    assert "<image" not in svg and texts(svg)["name"].get("x") == str(card.LEFT)


@pytest.mark.parametrize("name", [*LONG_NAMES, "Player One"])
def test_with_an_avatar_nothing_overlaps_it_or_the_radar_labels(name):
    skills = [{"category": "programming", "level": 8}, {"category": "mind", "level": 9}]
    svg = render_card({"username": "player_one_with_a_long_handle", "display_name": name},
                      build_stats(aggregate(skills)), avatar_webp())
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG
    image = next(root.iter(f"{SVG_NS}image"))
    x, y, width, height = (float(image.get(k)) for k in ("x", "y", "width", "height"))
    avatar = card.Box(x, y, x + width, y + height)
    assert avatar == card.avatar_box()
    labels = [text_box(t) for t in root.iter(f"{SVG_NS}text") if t.get("class") == "axis"]
    others = [text_box(t) for t in root.iter(f"{SVG_NS}text") if t.get("class") != "axis"]
    assert len(labels) == 10 and len(others) >= 6
    assert not any(avatar.overlaps(box) for box in [*labels, *others])
    elements = texts(svg)
    for kind in ("name", "handle"):
        drawn = text_box(elements[kind])
        assert drawn.x0 >= avatar.x1 + card.AVATAR_GAP - 0.01
        assert not any(drawn.overlaps(label) for label in labels), (kind, drawn)
