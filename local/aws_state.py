"""Keep moto's S3 objects and sent mail across restarts of ``make dev``, as Postgres keeps its data.

moto holds everything in memory. On a clean stop (Ctrl-C) ``save`` writes every object of every bucket
under ``.local/s3/<bucket>/<key>`` (with its content type in ``.local/s3-index.json``) and appends the
mail SES "sent" to ``.local/sent-mail.json``; ``restore`` puts the objects back when the next
``make dev`` starts, so an avatar URL in the database still finds its object. ``make emails`` lists
the saved mail with the live.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

S3_DIR, S3_INDEX, MAIL_FILE = "s3", "s3-index.json", "sent-mail.json"


def _s3(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint)


def _safe(key: str) -> bool:
    return not key.startswith("/") and ".." not in key.split("/")


def save(state_dir: Path, endpoint: str) -> dict[str, int]:
    """Write every S3 object and every sent mail under ``state_dir``; returns what it saved."""
    from local.aws_resources import sent_emails

    s3, index, saved = _s3(endpoint), {}, 0
    for bucket in (b["Name"] for b in s3.list_buckets().get("Buckets", [])):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                if not _safe(item["Key"]):
                    continue
                found = s3.get_object(Bucket=bucket, Key=item["Key"])
                path = state_dir / S3_DIR / bucket / item["Key"]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(found["Body"].read())
                index[f"{bucket}/{item['Key']}"] = found.get("ContentType") or "application/octet-stream"
                saved += 1
    (state_dir / S3_INDEX).write_text(json.dumps(index, indent=1))
    mails = {m["id"]: m for m in saved_mail(state_dir)}
    mails.update({m["id"]: m for m in sent_emails(endpoint)})
    (state_dir / MAIL_FILE).write_text(json.dumps(list(mails.values()), indent=1))
    return {"objects": saved, "mails": len(mails)}


def restore(state_dir: Path, endpoint: str) -> int:
    """Put the saved objects back (creating their buckets); returns how many."""
    index_file = state_dir / S3_INDEX
    if not index_file.exists():
        return 0
    s3, restored = _s3(endpoint), 0
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for name, content_type in json.loads(index_file.read_text()).items():
        bucket, key = name.split("/", 1)
        path = state_dir / S3_DIR / bucket / key
        if not _safe(key) or not path.exists():
            continue
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
            existing.add(bucket)
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type)
        restored += 1
    return restored


def saved_mail(state_dir: Path) -> list[dict[str, Any]]:
    path = state_dir / MAIL_FILE
    return json.loads(path.read_text()) if path.exists() else []
