"""card.png and the Open Graph fields through the profiles function's real handler (issue 17)."""

from __future__ import annotations

import struct

import pytest

from functions.profiles.app import handler
from functions.skills.app import handler as skills_handler
from shared.core.encoding import etag_of
from shared.public import cache as public_cache
from shared.public import views as public_views
from tests.support.skills import call

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def add(headers, name, category, level):
    response = call(skills_handler, "POST", "/api/v1/skills", headers, {"name": name, "category": category,
                                                                         "level": level})
    assert response.status == 201, response
    return response.json


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def alice(make_user):
    user, headers = make_user("alice", display_name="Alice")
    add(headers, "Python", "programming", 7)
    add(headers, "Guitar", "music", 4)
    return user, headers


def test_card_png_is_a_cdn_cacheable_open_graph_sized_png(alice):
    response = call(handler, "GET", "/api/v1/users/alice/card.png")
    assert response.status == 200, response
    assert response.headers["content-type"] == "image/png"
    assert png_size(response.body) == (1200, 630)
    assert response.headers["cache-control"] == call(handler, "GET", "/api/v1/users/alice/card.svg").headers[
        "cache-control"] and response.headers["cache-control"].startswith("public, max-age=")
    assert response.headers["etag"] == etag_of(response.body)
    again = call(handler, "GET", "/api/v1/users/ALICE/card.png", {"if-none-match": response.headers["etag"]})
    assert again.status == 304 and again.body == b""


def test_card_png_is_cached_under_its_svg_and_redrawn_when_the_svg_changes(alice, sql_counter, monkeypatch):
    from shared.public import png

    _, headers = alice
    drawn = []
    real = png.render_png
    monkeypatch.setattr(png, "render_png", lambda svg: drawn.append(svg) or real(svg))
    first = call(handler, "GET", "/api/v1/users/alice/card.png")
    sql_counter.reset()
    second = call(handler, "GET", "/api/v1/users/alice/card.png")
    assert second.body == first.body and len(drawn) == 1 and sql_counter.count == 0  # Redis only
    svg = public_views.card_body("alice")
    assert drawn == [svg]  # drawn from exactly the served SVG
    from shared.clients.redis import get_redis

    key = public_cache.card_png_key(etag_of(svg.encode()).strip('"'))
    assert 0 < get_redis().ttl(key) <= public_cache.CARD_TTL_S
    python = call(handler, "GET", "/api/v1/users/alice").json["skills"][0]
    assert call(skills_handler, "PATCH", f"/api/v1/skills/{python['id']}", headers, {"level": 10}).status == 200
    third = call(handler, "GET", "/api/v1/users/alice/card.png")
    assert third.status == 200 and third.body != first.body and len(drawn) == 2
    call(handler, "PATCH", "/api/v1/me/profile", headers, {"display_name": "Alicia the Bold"})
    assert call(handler, "GET", "/api/v1/users/alice/card.png").body != third.body and len(drawn) == 3


def test_private_and_missing_cards_are_the_same_404(alice, make_user):
    _, headers = alice
    assert call(handler, "GET", "/api/v1/users/alice/card.png").status == 200  # cached while public
    response = call(handler, "PATCH", "/api/v1/me/profile", headers,
                    {"privacy_settings": {"profile_visibility": "private"}})
    assert response.status == 200
    missing = call(handler, "GET", "/api/v1/users/nobody/card.png")
    assert missing.status == 404 and missing.headers["content-type"] == "application/json"
    for caller in (None, headers, make_user("bob")[1]):
        private = call(handler, "GET", "/api/v1/users/alice/card.png", caller)
        assert (private.status, private.json) == (404, missing.json)
    assert call(handler, "GET", "/api/v1/users/x/card.png").json == missing.json  # not even a username


def test_public_profile_carries_open_graph_fields(alice):
    from shared.core.settings import get_settings

    og = call(handler, "GET", "/api/v1/users/alice").json["open_graph"]
    base = get_settings().public_api_url.rstrip("/")
    assert og == {
        "title": "Alice (@alice) on Atribuo",
        "description": "Character level 4 · 2 skills · strongest in programming, music",
        "image": f"{base}/api/v1/users/alice/card.png",
        "image_type": "image/png", "image_width": 1200, "image_height": 630,
        "image_alt": "Alice's character card: level 4, a radar of skill categories",
    }
    assert call(handler, "GET", og["image"].removeprefix(base)).status == 200  # the image URL is served


def test_the_svg_card_needs_no_inline_style_any_more(alice):
    response = call(handler, "GET", "/api/v1/users/alice/card.svg")
    assert response.status == 200
    # issue 17: data: images (the embedded avatar) and nothing else
    assert response.headers["content-security-policy"] == "default-src 'none'; img-src data:"
    assert b"<style" not in response.body and b"style=" not in response.body
