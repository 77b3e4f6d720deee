"""Magic-number sniffing for avatar uploads."""

from __future__ import annotations

import pytest

from shared.media.avatars import sniff


@pytest.mark.parametrize(("head", "kind"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    (b"\xff\xd8\xff\xdb\x00\x43\x00", "image/jpeg"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8L", "image/webp"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
    (b"GIF89a\x01\x00\x01\x00", None),
    (b"<svg xmlns=", None),
    (b"\x89PNG", None),
    (b"", None),
])
def test_sniff(head, kind):
    assert sniff(head) == kind
