"""Avatar sizes (issue 17): the 64/128/256 px WebP variants of a confirmed avatar, made with Pillow.

Pillow (the MediaLayer) is attached to the uploads function only and imported here on first use, so
even the uploads function pays for it only on ``POST /me/avatar/confirm``. Nothing about the upload is
trusted, so decoding is defensive:

* only the format the key and the magic bytes already agreed on is tried (``formats=``), so a file
  cannot reach a decoder we did not mean to run (no PSD, TIFF, EPS… parsers on user bytes);
* the pixel count is checked from the header BEFORE anything is decoded (a decompression bomb: a
  2 MB PNG can announce 50 000 x 50 000 pixels), and Pillow's own bomb check is set to the same limit;
* JPEGs are decoded at the smallest DCT scale still >= the largest variant (``draft``), so even a
  permitted 16 MP photo decodes as ~1 MP: the work is bounded by MAX_PIXELS and the 2 MB upload cap;
* only the first frame of an animated PNG/WebP is used; the EXIF orientation is applied, then every
  piece of metadata is dropped (the variants carry no EXIF, GPS, ICC profile or XMP);
* anything Pillow cannot decode is an ``InvalidImage`` with a plain reason, which the caller turns into
  a 422 (and deletes the upload), never a 500.

Variants are square: the centred square of the (oriented) image, scaled with Lanczos, as WebP. An
image smaller than a size is scaled up to it, so every size exists and is exactly that size.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

SIZES = (64, 128, 256)
MAX_PIXELS = 16_000_000  # 4000 x 4000; a phone photo is 12 MP
MAX_SIDE = 10_000  # a 1 x 16 000 000 strip is no avatar
WEBP_QUALITY = 82
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


class InvalidImage(ValueError):
    """The bytes are not a usable image of the declared type; ``str()`` says why, for the user."""


def variants(data: bytes, content_type: str) -> dict[int, bytes]:
    """``{size: WebP bytes}`` for every size in SIZES; InvalidImage when ``data`` is unusable."""
    from PIL import Image

    square = _decode(data, content_type)
    out = {}
    for size in SIZES:
        buffer = io.BytesIO()
        square.resize((size, size), Image.Resampling.LANCZOS).save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
        out[size] = buffer.getvalue()
    return out


def _decode(data: bytes, content_type: str) -> Any:
    """The oriented, metadata-free centred square of the image (RGB or RGBA)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own check: a warning above it (an error here), an error above 2x
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _square(Image.open(io.BytesIO(data), formats=[FORMATS[content_type]]))
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImage("the image announces more pixels than an avatar may have") from exc
    except Exception as exc:  # UnidentifiedImageError, OSError, …, and whatever else a crafted file makes a
        # decoder raise (struct.error, KeyError, ZeroDivisionError): a bad upload is a 422, never a 500
        raise InvalidImage(f"the file is not a {FORMATS[content_type]} image that can be decoded") from exc


def _square(opened: Any) -> Any:
    from PIL import ImageOps

    with opened as image:
        width, height = image.size
        if width < 1 or height < 1 or width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
            raise InvalidImage(f"{width} x {height} pixels is outside what an avatar may be "
                               f"(at most {MAX_PIXELS} pixels, {MAX_SIDE} on a side)")
        if image.format == "JPEG":
            image.draft("RGB", (max(SIZES), max(SIZES)))  # decode at a reduced DCT scale: bounded work
        image.seek(0)  # the first frame of an animation
        image.load()
        oriented = ImageOps.exif_transpose(image)
        mode = "RGBA" if oriented.mode in ("RGBA", "LA", "PA") or "transparency" in oriented.info else "RGB"
        side = min(oriented.size)
        left, top = (oriented.width - side) // 2, (oriented.height - side) // 2
        square = oriented.convert(mode).crop((left, top, left + side, top + side))
    square.info.clear()  # nothing of the upload's metadata travels into a variant
    return square
