"""Avatar uploads straight to the bucket, and the checks that decide whether one may be used.

The browser uploads to S3 (presigned POST) or R2 (presigned PUT, since R2 has no POST policies);
our API never carries the bytes. Nothing uploaded is trusted: ``confirm`` checks the key is the
caller's, HEADs the object for its size and declared type, reads its first bytes for the magic
number, and only then references it. A bad object is deleted at once, so it is never served.

Immutable avatars (issue 13): the upload key stays writable while its presigned POST/PUT lives (5
minutes), so what is served is never the upload key. ``confirm`` copies the upload server-side (the
version its HEAD saw: ``If-Match`` on the ETag, which S3 and R2 enforce: a swap is a 409
``upload_changed``) to a fresh key under ``avatars/<user>/served/``, which no presigned upload can
target and nothing writes again (``immutable`` caching), and runs the size and magic-byte checks on
THAT copy: what was checked is what is served, whatever happens to the upload key. The upload key is
then deleted; a later re-upload to it only creates an object nothing references.

Avatar sizes (issue 17): the checked copy is then decoded (``shared.media.images``: Pillow, defensively)
into 64/128/256 px WebP variants stored beside it (``<served key stem>-<size>.webp``, immutable too);
a file that passes the magic bytes but does not decode is refused like any bad upload (422, deleted).
The API serves their URLs as ``avatar_urls``, and ``avatar_url`` is the 256 px one: the uploaded bytes
are never served and are deleted once the sizes exist (a phone photo's EXIF can carry where it was
taken; re-encoding drops every metadata block). The 128 px bytes also go into the user's row
(``avatar_card``), which the card embeds. Replacing or removing an avatar deletes its variants with it;
deleting the account deletes the whole prefix (``shared.identity.erasure``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shared.clients import db
from shared.clients import s3 as storage
from shared.core.errors import NotFoundError, ServiceUnavailableError, ValidationFailedError
from shared.core.settings import get_settings
from shared.media import images
from shared.models.avatars import MAX_AVATAR_BYTES
from shared.repositories import avatars as repo
from shared.sync.notify import after_write

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
CONTENT_TYPES = {ext: ctype for ctype, ext in EXTENSIONS.items()}
UPLOAD_EXPIRES_S = 300
SNIFF_BYTES = 16
_KEY_TAIL = re.compile(r"[0-9a-f]{32}\.(png|jpg|webp)")
SERVED = "served/"
SERVED_CACHING = "public, max-age=31536000, immutable"  # a served key is never written again
CARD_SIZE = 128  # the variant the card embeds (drawn at 64 px on the 600 x 315 card, 128 px in card.png)


def user_prefix(user_id: uuid.UUID) -> str:
    """Every object a user may upload lives under this prefix, and only theirs does."""
    return f"avatars/{user_id}/"


def new_key(user_id: uuid.UUID, content_type: str) -> str:
    return f"{user_prefix(user_id)}{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"


def sniff(head: bytes) -> str | None:
    """The image type the first bytes announce (PNG, JPEG, WebP), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def presign_upload(user_id: uuid.UUID, content_type: str, content_length: int | None = None) -> dict[str, Any]:
    """A presigned POST (S3) or PUT (R2) for a new key under the caller's prefix."""
    s3, bucket = storage.get_s3(), get_settings().avatar_bucket
    key = new_key(user_id, content_type)
    base = {"key": key, "expires_in": UPLOAD_EXPIRES_S}
    with _storage_errors():
        if storage.is_r2():
            params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ContentType": content_type}
            headers = {"content-type": content_type}
            if content_length is not None:
                params["ContentLength"] = content_length
                headers["content-length"] = str(content_length)
            url = s3.generate_presigned_url("put_object", Params=params, ExpiresIn=UPLOAD_EXPIRES_S)
            return {**base, "method": "PUT", "url": url, "fields": {}, "headers": headers}
        post = s3.generate_presigned_post(
            bucket, key, Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, MAX_AVATAR_BYTES]],
            ExpiresIn=UPLOAD_EXPIRES_S,
        )
    return {**base, "method": "POST", "url": post["url"], "fields": post["fields"], "headers": {}}


def confirm_upload(user_id: uuid.UUID, key: str) -> tuple[str, dict[str, str]]:
    """Copy the uploaded object to a fresh key no upload can reach, check THE COPY, make its sizes, and
    make it the avatar; returns the new avatar URL and the sizes' URLs."""
    expected = _own_key_type(user_id, key)
    s3, bucket = storage.get_s3(), get_settings().avatar_bucket
    with _storage_errors():
        head = _head(s3, bucket, key)
        problem, served, sized = _problem(head, expected), None, None
        if problem is None:
            served = _pin(s3, bucket, key, str(head.get("ETag") or ""), expected, user_id)
            problem = _problem(_head(s3, bucket, served), expected)
            if problem is None:
                problem, sized = _content(s3, bucket, served, expected)
        if problem:
            for doomed in filter(None, (key, served)):
                s3.delete_object(Bucket=bucket, Key=doomed)
            raise ValidationFailedError("the upload was rejected and deleted: {problem}", code="invalid_upload",
                                        params={"problem": problem},
                                        details={"key": key, "reason": problem})
        assert served is not None and sized is not None
        for size, body in sized.items():
            s3.put_object(Bucket=bucket, Key=variant_key(served, size), Body=body, ContentType="image/webp",
                          CacheControl=SERVED_CACHING)
    # The uploaded bytes themselves are never served: they may carry EXIF (a phone's GPS position).
    # ``avatar_url`` is the largest re-encoded size, and the original copy goes once the sizes exist
    # (its key stays the avatar's name: the sizes' keys derive from it).
    urls = {str(size): public_url(variant_key(served, size)) for size in sized}
    url = urls[str(max(sized))]
    try:
        previous, change = db.run(lambda conn: repo.set_avatar(conn, user_id, url=url, key=served, urls=urls,
                                                               card=sized[CARD_SIZE]))
        if previous is None:
            raise NotFoundError("no such user")
    except Exception:  # nothing references the copy and its sizes: they go (best effort), the error stands
        _delete_quietly(s3, bucket, *avatar_keys(served))
        raise
    if change is not None:
        after_write(user_id, change)
    if previous and previous != served:
        _delete_quietly(s3, bucket, *avatar_keys(previous))
    _delete_quietly(s3, bucket, key, served)  # neither the upload key nor the original bytes are served
    return url, urls


def public_url(key: str) -> str:
    return get_settings().avatar_public_base_url.rstrip("/") + "/" + key


def variant_key(served: str, size: int) -> str:
    """Where the ``size`` px WebP of the avatar at ``served`` lives: beside it, under the same prefix."""
    return f"{served.rsplit('.', 1)[0]}-{size}.webp"


def avatar_keys(served: str) -> list[str]:
    """Every object of one avatar: the checked copy and its sizes (for an avatar from before sizes
    existed, the size keys name nothing, and deleting them is a no-op)."""
    return [served, *(variant_key(served, size) for size in images.SIZES)]


def served_key(user_id: uuid.UUID, content_type: str) -> str:
    """A fresh key for a confirmed avatar: under ``served/``, which no presigned upload can target,
    and never written again (so it can be cached as immutable)."""
    return f"{user_prefix(user_id)}{SERVED}{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"


def _pin(s3: Any, bucket: str, key: str, etag: str, content_type: str, user_id: uuid.UUID) -> str:
    """Copy the upload (the version the HEAD saw: ``If-Match`` its ETag) to a fresh served key."""
    from botocore.exceptions import ClientError

    from shared.core.errors import ConflictError

    served = served_key(user_id, content_type)
    try:
        s3.copy_object(Bucket=bucket, Key=served, CopySource={"Bucket": bucket, "Key": key}, CopySourceIfMatch=etag,
                       MetadataDirective="REPLACE", ContentType=content_type, CacheControl=SERVED_CACHING)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
            raise ConflictError("the upload changed while it was being checked; upload again",
                                code="upload_changed") from exc
        raise
    return served


def remove_avatar(user_id: uuid.UUID) -> None:
    """Forget the avatar and delete its object (a no-op when there is none)."""
    previous, change = db.run(lambda conn: repo.clear_avatar(conn, user_id))
    if change is not None:
        after_write(user_id, change)
    if previous:
        _delete_quietly(storage.get_s3(), get_settings().avatar_bucket, *avatar_keys(previous))


def _own_key_type(user_id: uuid.UUID, key: str) -> str:
    """The content type the key's extension declares; 404 for anything not the caller's own key."""
    prefix = user_prefix(user_id)
    if not key.startswith(prefix) or not _KEY_TAIL.fullmatch(key[len(prefix):]):
        raise NotFoundError("no such upload")
    return CONTENT_TYPES[key.rsplit(".", 1)[1]]


def _head(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise NotFoundError("no upload at that key (expired, or never uploaded)") from exc
        raise


def _problem(head: dict[str, Any], expected: str) -> str | None:
    size = int(head.get("ContentLength", 0))
    if size < 1 or size > MAX_AVATAR_BYTES:
        return f"size {size} bytes is outside 1..{MAX_AVATAR_BYTES}"
    declared = (head.get("ContentType") or "").split(";")[0].strip().lower()
    if declared != expected:
        return f"declared content type {declared or 'none'!r} does not match the key's {expected!r}"
    return None


def _content(s3: Any, bucket: str, key: str, expected: str) -> tuple[str | None, dict[int, bytes] | None]:
    """``(problem, None)`` or ``(None, sizes)``: the copy's magic bytes, then the whole image decoded
    (its HEAD already bounded it to MAX_AVATAR_BYTES; the read is bounded again)."""
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_AVATAR_BYTES + 1)
    actual = sniff(data[:SNIFF_BYTES])
    if actual != expected:
        return f"the file content is {actual or 'not an image we accept'}, not {expected}", None
    if len(data) > MAX_AVATAR_BYTES:
        return f"the file is larger than {MAX_AVATAR_BYTES} bytes", None
    try:
        return None, images.variants(data, expected)
    except images.InvalidImage as exc:
        return str(exc), None


def _delete_quietly(s3: Any, bucket: str, *keys: str) -> None:
    """Delete replaced objects (one request); a failure leaves orphans (a lifecycle rule can sweep), not
    an error."""
    from botocore.exceptions import BotoCoreError, ClientError

    from shared.core.observability import logger

    try:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True})
    except (BotoCoreError, ClientError):
        logger.warning("could not delete a replaced avatar", extra={"keys": list(keys)})


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Storage outages become a 503 with a plain message, never a 500 with internals."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise ServiceUnavailableError("file storage is unavailable, try again shortly") from exc
