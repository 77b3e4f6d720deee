"""The SVG card, rendered to pixels by a real SVG renderer (resvg)."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib

import resvg_py

from shared.public.card import HEIGHT, WIDTH, render_card
from shared.public.character import aggregate, build_stats

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
    return decode_png(bytes(resvg_py.svg_to_bytes(svg_string=svg)))


def test_card_renders_to_a_non_blank_picture_of_the_right_size():
    width, height, rows = render(card_for("Player One"))
    assert (width, height) == (WIDTH, HEIGHT) == (600, 320)
    pixels = {row[i:i + 4] for row in rows for i in range(0, len(row), 4)}
    assert len(pixels) > 50  # background, grid, filled radar, anti-aliased text: far from one flat colour
    centre_row = rows[165]
    radar_fill = centre_row[440 * 4:441 * 4]
    background = rows[300][100 * 4:101 * 4]
    assert radar_fill != background and radar_fill[3] == 255


def test_hostile_display_name_is_escaped_and_drawn_as_text():
    hostile = '<script>alert("pwned")</script>&'
    svg = card_for(hostile)
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG; parsing proves it well-formed
    assert not list(root.iter(f"{SVG_NS}script"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    title_text = next(t for t in root.iter(f"{SVG_NS}text") if t.get("font-size") == "22")
    assert "".join(title_text.itertext()) == '<script>alert("pwne…'
    _, _, with_name = render(svg)
    _, _, without_name = render(card_for(" "))  # a blank name: no glyphs
    name_band = slice(30, 70)  # the rows where the display name is drawn
    assert with_name[name_band] != without_name[name_band]  # the characters were painted as glyphs


def test_characters_xml_forbids_are_removed():
    svg = card_for("bad\x00\x01\x1bname")
    ET.fromstring(svg)  # noqa: S314 - our own SVG
    assert "badname" in svg
