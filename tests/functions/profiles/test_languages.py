"""Public, CDN-cacheable views stay language-neutral (issue 17): one body per URL whatever the caller's
Accept-Language, so a shared cache keyed on the URL can never serve one language to another; only
their errors speak the caller's language, and those are never stored."""

from __future__ import annotations

import pytest

from functions.profiles.app import handler
from tests.functions.profiles.test_app import add
from tests.support.skills import call

PUBLIC = ["/api/v1/users/alice", "/api/v1/users/alice/card.svg", "/api/v1/leaderboard"]


@pytest.fixture
def alice(make_user):
    user, headers = make_user("alice", display_name="Alice")
    add(headers, "Python", "programming", 7)
    return user, headers


@pytest.mark.parametrize("path", PUBLIC)
def test_public_views_are_the_same_bytes_in_every_language(alice, path):
    english = call(handler, "GET", path, {"accept-language": "en"})
    indonesian = call(handler, "GET", path, {"accept-language": "id-ID,id;q=0.9"})
    assert english.status == indonesian.status == 200, (english, indonesian)
    assert indonesian.body == english.body and indonesian.headers["etag"] == english.headers["etag"]
    assert indonesian.headers["cache-control"].startswith("public")
    for response in (english, indonesian):
        assert "content-language" not in response.headers
        assert "accept-language" not in response.headers.get("vary", "").lower()


def test_a_public_404_speaks_the_callers_language_and_is_never_stored(alice):
    response = call(handler, "GET", "/api/v1/users/nobody", {"accept-language": "id"})
    assert response.status == 404 and response.json["error"] == {
        "code": "not_found", "message": "profil tidak ditemukan", "details": None}
    assert response.headers["cache-control"] == "no-store" and response.headers["vary"] == "Accept-Language"
    assert call(handler, "GET", "/api/v1/users/nobody").json["error"]["message"] == "no such profile"
