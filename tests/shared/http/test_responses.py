"""Strong ETags and If-None-Match matching (RFC 9110)."""

from __future__ import annotations

from shared.core.encoding import etag_of
from shared.http.responses import matches


def test_etag_is_strong_and_depends_on_every_byte():
    assert etag_of(b"a").startswith('"') and not etag_of(b"a").startswith("W/")
    assert etag_of(b"a") != etag_of(b"b") and etag_of(b"a") == etag_of(b"a")


def test_if_none_match_lists_star_and_weak_forms():
    tag = etag_of(b"body")
    assert matches(tag, tag) and matches(f'"x", {tag}', tag) and matches("*", tag) and matches(f"W/{tag}", tag)
    assert not matches(None, tag) and not matches('"other"', tag)
