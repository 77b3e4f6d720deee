"""Exports and imports through the bucket (issue 15): "any size", past API Gateway's message limits.

API Gateway answers with at most 6 MB and takes a request body only up to the edge's limit, so a
large export is written to the bucket under ``exports/<user>/`` and handed over as a short-lived
presigned GET, and a large import is uploaded by the client (presigned POST, or PUT on R2) under
``imports/<user>/`` and read back from there with a size cap. The export is streamed into a
multipart upload part by part, so memory holds one part whatever the account's size, and every part
starts only while the invocation has time for it (``shared.core.deadline``); a run out of time
aborts the upload and answers 503. The bucket's lifecycle rule (``local.deploy``) deletes both
prefixes' objects after a day; ``DELETE /me`` deletes them at once (``erasure.USER_PREFIXES``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shared.clients import s3 as storage
from shared.core import deadline
from shared.core.errors import NotFoundError, PayloadTooLargeError, ServiceUnavailableError
from shared.core.observability import logger
from shared.core.settings import get_settings
from shared.models.accounts import ExportLinkPublic, ImportUploadPublic

EXPORT_PREFIX, IMPORT_PREFIX = "exports/{user_id}/", "imports/{user_id}/"
PART_BYTES = 8 * 1024 * 1024  # S3's minimum part is 5 MiB (all but the last)
PART_TIME_S = storage.S3_CONNECT_S + storage.S3_READ_S  # one attempt (guard_botocore refuses a retry past the deadline)
UPLOAD_EXPIRES_S = 900
KINDS = {"json": ("application/json", "json"), "history_csv": ("text/csv; charset=utf-8", "csv")}


def _key_pattern(prefix: str, user_id: uuid.UUID, ext: str) -> re.Pattern[str]:
    return re.compile(re.escape(prefix.format(user_id=user_id)) + r"[0-9a-f]{32}\." + ext)


def store_export(user_id: uuid.UUID, fmt: str, filename: str, chunks: Iterator[bytes]) -> ExportLinkPublic:
    """Stream ``chunks`` into ``exports/<user>/<random>.<ext>`` and return a presigned link to it."""
    content_type, ext = KINDS[fmt]
    s3, bucket = storage.get_s3(), get_settings().avatar_bucket
    key = f"{EXPORT_PREFIX.format(user_id=user_id)}{uuid.uuid4().hex}.{ext}"
    disposition = f'attachment; filename="{filename}"'
    with _storage_errors():
        size = _upload(s3, bucket, key, content_type, disposition, chunks)
        url = s3.generate_presigned_url("get_object", ExpiresIn=get_settings().export_link_ttl_s, Params={
            "Bucket": bucket, "Key": key, "ResponseContentDisposition": disposition,
            "ResponseContentType": content_type})
    return ExportLinkPublic(url=url, expires_in=get_settings().export_link_ttl_s, bytes=size, format=fmt)  # type: ignore[arg-type]


def _upload(s3: Any, bucket: str, key: str, content_type: str, disposition: str, chunks: Iterator[bytes]) -> int:
    """One PUT when the whole document fits in a part, else a multipart upload; the bytes written."""
    buffer, size, upload_id, parts = bytearray(), 0, None, []
    try:
        for chunk in chunks:
            buffer += chunk
            size += len(chunk)
            if len(buffer) >= PART_BYTES:
                if upload_id is None:
                    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type,
                                                           ContentDisposition=disposition)["UploadId"]
                parts.append(_part(s3, bucket, key, upload_id, len(parts) + 1, bytes(buffer[:PART_BYTES])))
                del buffer[:PART_BYTES]
        _in_time()
        if upload_id is None:
            s3.put_object(Bucket=bucket, Key=key, Body=bytes(buffer), ContentType=content_type,
                          ContentDisposition=disposition)
            return size
        if buffer:
            parts.append(_part(s3, bucket, key, upload_id, len(parts) + 1, bytes(buffer)))
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                     MultipartUpload={"Parts": parts})
        return size
    except BaseException:
        if upload_id is not None:
            _abort(s3, bucket, key, upload_id)
        raise


def _part(s3: Any, bucket: str, key: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
    _in_time()
    answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
    return {"PartNumber": number, "ETag": answer["ETag"]}


def _in_time() -> None:
    left = deadline.remaining()
    if left is not None and left < PART_TIME_S:
        raise ServiceUnavailableError("the export did not finish in time; try again")


def _abort(s3: Any, bucket: str, key: str, upload_id: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except (BotoCoreError, ClientError):  # the bucket's rule for incomplete uploads sweeps it
        logger.warning("multipart export upload not aborted", extra={"key": key})


def presign_import(user_id: uuid.UUID) -> ImportUploadPublic:
    """Where to upload an export file for import: a new key under the caller's ``imports/`` prefix."""
    s3, bucket, limit = storage.get_s3(), get_settings().avatar_bucket, get_settings().import_upload_max_bytes
    key = f"{IMPORT_PREFIX.format(user_id=user_id)}{uuid.uuid4().hex}.json"
    base = {"key": key, "expires_in": UPLOAD_EXPIRES_S, "max_bytes": limit}
    with _storage_errors():
        if storage.is_r2():  # no POST policies on R2: a PUT of this key (the size is checked on reading)
            url = s3.generate_presigned_url("put_object", ExpiresIn=UPLOAD_EXPIRES_S, Params={
                "Bucket": bucket, "Key": key, "ContentType": "application/json"})
            return ImportUploadPublic(**base, method="PUT", url=url, fields={},
                                      headers={"content-type": "application/json"})
        post = s3.generate_presigned_post(bucket, key, Fields={"Content-Type": "application/json"},
                                          Conditions=[{"Content-Type": "application/json"},
                                                      ["content-length-range", 1, limit]],
                                          ExpiresIn=UPLOAD_EXPIRES_S)
    return ImportUploadPublic(**base, method="POST", url=post["url"], fields=post["fields"], headers={})


def read_import(user_id: uuid.UUID, key: str) -> bytes:
    """The uploaded file at ``key``: 404 unless it is one of the caller's import keys and exists (the
    same answer for someone else's), 413 past ``import_upload_max_bytes``."""
    from botocore.exceptions import ClientError

    if not _key_pattern(IMPORT_PREFIX, user_id, "json").fullmatch(key):
        raise NotFoundError("no such upload")
    s3, bucket, limit = storage.get_s3(), get_settings().avatar_bucket, get_settings().import_upload_max_bytes
    try:
        with _storage_errors(passing=("NoSuchKey", "404")):
            answer = s3.get_object(Bucket=bucket, Key=key)
            if int(answer.get("ContentLength") or 0) > limit:
                answer["Body"].close()
                raise PayloadTooLargeError("the uploaded file is larger than {limit} bytes", params={"limit": limit})
            body = answer["Body"].read(limit + 1)
    except ClientError as exc:  # only the passing codes get here: the object is not there
        raise NotFoundError("no such upload") from exc
    if len(body) > limit:
        raise PayloadTooLargeError("the uploaded file is larger than {limit} bytes", params={"limit": limit})
    return body


def discard_import(key: str) -> None:
    """Delete an imported upload (best effort: the lifecycle rule deletes it within a day anyway)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        storage.get_s3().delete_object(Bucket=get_settings().avatar_bucket, Key=key)
    except (BotoCoreError, ClientError):
        logger.warning("imported upload not deleted", extra={"key": key})


@contextmanager
def _storage_errors(passing: tuple[str, ...] = ()) -> Iterator[None]:
    """Storage outages become a 503 with a plain message, never a 500 with internals; ``passing``
    error codes are re-raised for the caller to answer."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in passing:
            raise
        raise ServiceUnavailableError("file storage is unavailable, try again shortly") from exc
    except BotoCoreError as exc:
        raise ServiceUnavailableError("file storage is unavailable, try again shortly") from exc
