"""Real image files for the avatar tests (issue 17: confirm decodes what it serves, so magic bytes alone
no longer pass), made with Pillow in memory."""

from __future__ import annotations

import io
import struct
import zlib


def image_bytes(fmt: str, size: tuple[int, int] = (96, 64), color: tuple[int, ...] = (59, 130, 246),
                **save: object) -> bytes:
    from PIL import Image

    mode = "RGBA" if len(color) == 4 else "RGB"
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save)
    return buffer.getvalue()


def png(**kwargs: object) -> bytes:
    return image_bytes("PNG", **kwargs)


def jpeg(**kwargs: object) -> bytes:
    return image_bytes("JPEG", **kwargs)


def webp(**kwargs: object) -> bytes:
    return image_bytes("WEBP", **kwargs)


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid-looking PNG of a few hundred bytes whose header announces ``width x height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
            + chunk(b"IEND", b""))
