"""The S3 client for the avatar bucket: created lazily once per container, resettable.

One code path for AWS S3, Cloudflare R2 and the local moto server: with ``storage_endpoint`` unset,
boto3 resolves the endpoint itself (AWS, or ``AWS_ENDPOINT_URL`` locally); with it set (R2) the
client targets that endpoint, signs SigV4 with region ``auto`` and uses path-style addressing.
boto3 is imported on first use only, so functions that never touch S3 never pay for it.
"""

from __future__ import annotations

import os
from typing import Any

from shared.clients import registry
from shared.core import tracing
from shared.core.deadline import botocore_config, guard_botocore
from shared.core.settings import get_settings, storage_credentials

S3_CONNECT_S, S3_READ_S, S3_ATTEMPTS = 1.0, 2.0, 2
_client: Any = None


def is_r2() -> bool:
    """True when an explicit storage endpoint (R2) is configured: it has no presigned POST."""
    return bool(get_settings().storage_endpoint)


def get_s3() -> Any:
    """The container's S3 client."""
    global _client
    if _client is None:
        import boto3

        tracing.patch_botocore()  # X-Ray subsegments for its calls, where tracing is on
        settings = get_settings()
        region = settings.storage_region or ("auto" if is_r2() else None)
        path_style = is_r2() or bool(os.environ.get("AWS_ENDPOINT_URL"))
        # Two attempts of at most 1 + 2 s: a stalled S3 costs a request 6 s, not 3 x 10 s.
        config = botocore_config(connect_s=S3_CONNECT_S, read_s=S3_READ_S, attempts=S3_ATTEMPTS,
                                 signature_version="s3v4", s3={"addressing_style": "path" if path_style else "auto"})
        keys = storage_credentials(settings) if is_r2() else None  # R2: its API token signs, not the role
        credentials = {"aws_access_key_id": keys[0], "aws_secret_access_key": keys[1]} if keys else {}
        _client = guard_botocore(boto3.client("s3", endpoint_url=settings.storage_endpoint or None,
                                              region_name=region, config=config, **credentials),
                                 S3_CONNECT_S + S3_READ_S)
    return _client


def reset() -> None:
    """Forget the client (tests switch between S3 and R2 mode)."""
    global _client
    _client = None


registry.register("s3", reset)
