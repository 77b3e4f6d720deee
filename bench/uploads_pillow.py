"""The uploads function as a container whose first request is ``POST /me/avatar/confirm`` (issue 17).

Pillow is imported lazily by ``shared.media.images``, so the function's own cold start (bench.cold_start's
UploadsFunction row) does not include it; a container that starts on a confirm pays it on top. This module
is that container for the cold probe: the uploads handler, then the avatar sizes of a small PNG (Pillow's
import, its PNG decoder and WebP encoder loaded once), side by side with the plain UploadsFunction row.
"""

from __future__ import annotations

import io

from functions.uploads.app import handler  # noqa: F401 - the probe serves its request through this handler
from shared.media import images


def _first_use() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (59, 130, 246)).save(buffer, "PNG")
    images.variants(buffer.getvalue(), "image/png")


_first_use()
