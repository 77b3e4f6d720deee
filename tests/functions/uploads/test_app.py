"""Avatars: presigned uploads pinned to the caller, and confirm rejecting (and deleting) bad objects.

moto does not enforce presigned-POST policies, so the policy itself is decoded and checked, and bad
objects are put straight into the moto bucket to prove confirm is the real gate.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import httpx
import pytest

from functions.uploads.app import handler
from shared.clients import db
from shared.models.avatars import MAX_AVATAR_BYTES
from shared.repositories.users import get_user
from tests.support import http_event, invoke, load_event
from tests.support.images import jpeg, png, webp

# Real images (issue 17: confirm decodes the file to make its sizes; magic bytes alone are refused).
PNG, JPEG, WEBP = png(), jpeg(), webp()


SERVED = re.compile(r"/avatars/([0-9a-f-]{36})/served/[0-9a-f]{32}-256\.webp$")  # a re-encoded size, never the upload


def served(response) -> str:
    """The bucket key a confirmed avatar is served from."""
    assert response.status == 200, response
    return "avatars/" + response.json["avatar_url"].split("/avatars/", 1)[1]


def upload(headers: dict, content_type: str = "image/png", **extra) -> dict:
    response = invoke(handler, http_event("POST", "/api/v1/me/avatar/upload", headers=headers,
                                          body={"content_type": content_type, **extra}))
    assert response.status == 200, response
    return response.json


def confirm(headers: dict, key: str):
    return invoke(handler, http_event("POST", "/api/v1/me/avatar/confirm", headers=headers, body={"key": key}))


def put(bucket: str, key: str, body: bytes, content_type: str) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def exists(bucket: str, key: str) -> bool:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
    return any(obj["Key"] == key for obj in listed)


def test_presigned_post_policy_pins_key_type_size_and_expiry(make_user, avatar_bucket):
    user, headers = make_user()
    before = datetime.now(UTC)
    body = upload(headers, "image/webp")
    assert body["method"] == "POST" and body["expires_in"] <= 300
    assert body["key"].startswith(f"avatars/{user['id']}/") and body["key"].endswith(".webp")
    policy = json.loads(base64.b64decode(body["fields"]["policy"]))
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert expires - before <= timedelta(seconds=301)
    conditions = policy["conditions"]
    assert {"key": body["key"]} in conditions  # the exact key, under the caller's prefix
    assert {"Content-Type": "image/webp"} in conditions
    assert ["content-length-range", 1, MAX_AVATAR_BYTES] in conditions
    assert {"bucket": avatar_bucket} in conditions
    assert body["fields"]["Content-Type"] == "image/webp"


def test_presigned_post_uploads_to_moto_and_confirms(make_user, avatar_bucket):
    """The whole browser flow: multipart POST to the bucket with the fields, then confirm."""
    user, headers = make_user()
    body = upload(headers)
    sent = httpx.post(body["url"], data=body["fields"], files={"file": ("me.png", PNG, "image/png")})
    assert sent.status_code in (200, 204), sent.text
    response = confirm(headers, body["key"])
    assert response.status == 200, response
    assert SERVED.search(response.json["avatar_url"]).group(1) == str(user["id"])  # a checked copy
    assert get_user(db.get_conn(), user["id"])["avatar_url"] == response.json["avatar_url"]
    assert not exists(avatar_bucket, body["key"])  # the upload key is never served


@pytest.mark.parametrize("content_type", ["image/gif", "text/html", "image/svg+xml", ""])
def test_other_content_types_are_422(make_user, avatar_bucket, content_type):
    _, headers = make_user()
    response = invoke(handler, http_event("POST", "/api/v1/me/avatar/upload", headers=headers,
                                          body={"content_type": content_type}))
    assert response.status == 422 and response.json["error"]["code"] == "validation_error"


def test_upload_needs_a_token(avatar_bucket):
    event = load_event("event-post-avatar-upload")
    event["headers"].pop("authorization")
    assert invoke(handler, event).status == 401


def test_sample_event_is_a_valid_upload_request(make_user, avatar_bucket):
    _, headers = make_user()
    event = load_event("event-post-avatar-upload")
    event["headers"]["authorization"] = headers["authorization"]
    response = invoke(handler, event)
    assert response.status == 200 and response.json["method"] == "POST"


@pytest.mark.parametrize(("name", "ext", "body", "declared"), [
    ("oversize PNG", "png", PNG + bytes(MAX_AVATAR_BYTES), "image/png"),
    ("text file named .png", "png", b"hello, I am not an image at all", "image/png"),
    ("PNG declared as JPEG", "jpg", PNG, "image/jpeg"),
    ("JPEG labelled PNG", "png", JPEG, "image/png"),
    ("wrong declared type", "webp", WEBP, "text/plain"),
    ("HTML posing as WebP", "webp", b"<html><script>alert(1)</script></html>", "image/webp"),
])
def test_confirm_rejects_and_deletes_bad_uploads(make_user, avatar_bucket, name, ext, body, declared):
    user, headers = make_user()
    key = f"avatars/{user['id']}/{uuid.uuid4().hex}.{ext}"
    put(avatar_bucket, key, body, declared)
    response = confirm(headers, key)
    assert response.status == 422, name
    assert response.json["error"]["code"] == "invalid_upload"
    assert response.json["error"]["details"]["reason"]
    assert not exists(avatar_bucket, key), f"{name} must be deleted"
    assert get_user(db.get_conn(), user["id"])["avatar_url"] is None


def test_another_user_cannot_confirm_my_key(make_user, avatar_bucket):
    me, _ = make_user("alice")
    _, mallory = make_user("mallory")
    key = f"avatars/{me['id']}/{uuid.uuid4().hex}.png"
    put(avatar_bucket, key, b"not a png", "image/png")  # even a bad object of mine is not theirs to delete
    response = confirm(mallory, key)
    assert response.status == 404
    assert exists(avatar_bucket, key)
    assert get_user(db.get_conn(), me["id"])["avatar_url"] is None


@pytest.mark.parametrize("key", ["avatars/../etc/passwd", "other/prefix.png", "avatars/{uid}/x.png",
                                 "avatars/{uid}/" + "a" * 32 + ".gif", "avatars/{uid}/" + "a" * 32 + ".png/../x"])
def test_malformed_keys_are_404(make_user, avatar_bucket, key):
    user, headers = make_user()
    assert confirm(headers, key.replace("{uid}", str(user["id"]))).status == 404


def test_missing_object_is_404(make_user, avatar_bucket):
    user, headers = make_user()
    assert confirm(headers, f"avatars/{user['id']}/{uuid.uuid4().hex}.png").status == 404


def test_good_png_confirms_and_replaces_previous(make_user, avatar_bucket):
    user, headers = make_user()
    first, second = (f"avatars/{user['id']}/{uuid.uuid4().hex}.{ext}" for ext in ("png", "webp"))
    put(avatar_bucket, first, PNG, "image/png")
    put(avatar_bucket, second, WEBP, "image/webp")
    served_first = served(confirm(headers, first))
    assert exists(avatar_bucket, served_first)
    assert confirm(headers, first).status == 404  # its upload key is gone: only the copy is served
    response = confirm(headers, second)
    assert response.status == 200
    assert get_user(db.get_conn(), user["id"])["avatar_url"] == response.json["avatar_url"]
    assert response.json["avatar_url"].endswith(".webp")
    assert not exists(avatar_bucket, served_first) and exists(avatar_bucket, served(response))


def test_jpeg_confirms(make_user, avatar_bucket):
    user, headers = make_user()
    key = f"avatars/{user['id']}/{uuid.uuid4().hex}.jpg"
    put(avatar_bucket, key, JPEG, "image/jpeg")
    assert confirm(headers, key).status == 200


def test_delete_removes_object_and_url(make_user, avatar_bucket):
    user, headers = make_user()
    key = f"avatars/{user['id']}/{uuid.uuid4().hex}.png"
    put(avatar_bucket, key, PNG, "image/png")
    key = served(confirm(headers, key))
    response = invoke(handler, http_event("DELETE", "/api/v1/me/avatar", headers=headers))
    assert response.status == 204
    assert not exists(avatar_bucket, key)
    assert get_user(db.get_conn(), user["id"])["avatar_url"] is None
    assert invoke(handler, http_event("DELETE", "/api/v1/me/avatar", headers=headers)).status == 204


def test_r2_mode_returns_a_presigned_put(make_user, avatar_bucket, monkeypatch):
    import os

    from shared.clients.registry import reset_all

    monkeypatch.setenv("STORAGE_ENDPOINT", os.environ["AWS_ENDPOINT_URL"])
    reset_all()
    user, headers = make_user()
    body = upload(headers, "image/png", content_length=len(PNG))
    assert body["method"] == "PUT" and body["fields"] == {}
    assert body["headers"] == {"content-type": "image/png", "content-length": str(len(PNG))}
    assert "X-Amz-Signature=" in body["url"] and "X-Amz-Expires=300" in body["url"]
    assert "content-type" in body["url"].split("X-Amz-SignedHeaders=")[1].split("&")[0]
    sent = httpx.put(body["url"], content=PNG, headers=body["headers"])
    assert sent.status_code == 200, sent.text
    response = confirm(headers, body["key"])
    assert response.status == 200
    assert get_user(db.get_conn(), user["id"])["avatar_url"].endswith(served(response))


def test_storage_outage_is_a_503(make_user, avatar_bucket, monkeypatch):
    from shared.clients.registry import reset_all

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    reset_all()
    user, headers = make_user()
    response = confirm(headers, f"avatars/{user['id']}/{uuid.uuid4().hex}.png")
    assert response.status == 503 and "internal" not in response.body.decode().lower()


def test_an_avatar_change_is_a_synced_profile_write(make_user, avatar_bucket):
    """Other devices learn of a new or removed avatar like any profile edit: version, change log, push."""
    from shared.clients import db

    user, auth = make_user()
    key = upload(auth)["key"]
    put(avatar_bucket, key, PNG, "image/png")
    assert confirm(auth, key).status == 200
    assert confirm(auth, key).status == 404  # its upload key is gone: a repeat changes nothing
    assert invoke(handler, http_event("DELETE", "/api/v1/me/avatar", headers=auth)).status == 204
    rows = db.get_conn().execute("SELECT entity, data->>'avatar_url' AS url FROM changes WHERE owner_id = %s"
                                 " ORDER BY version", (user["id"],)).fetchall()
    assert [(r["entity"], r["url"] is not None) for r in rows] == [("profile", True), ("profile", False)]
    assert db.get_conn().execute("SELECT sync_version FROM users WHERE id = %s", (user["id"],)).fetchone() == \
        {"sync_version": 2}


def test_an_html_reupload_over_a_confirmed_avatar_changes_nothing_served(make_user, avatar_bucket):
    """The presigned POST stays valid for minutes after confirm: a re-upload to the old key (here put
    straight into the bucket, as moto does not enforce POST policies) is never what avatar_url serves."""
    user, headers = make_user()
    body = upload(headers)
    httpx.post(body["url"], data=body["fields"], files={"file": ("me.png", PNG, "image/png")})
    url = confirm(headers, body["key"]).json["avatar_url"]
    key = "avatars/" + url.split("/avatars/", 1)[1]
    put(avatar_bucket, body["key"], b"<html><script>alert(1)</script></html>", "image/png")
    stored = boto3.client("s3").get_object(Bucket=avatar_bucket, Key=key)
    assert stored["Body"].read().startswith(b"RIFF") and stored["ContentType"] == "image/webp"  # our encoding
    assert stored["CacheControl"] == "public, max-age=31536000, immutable"
    assert get_user(db.get_conn(), user["id"])["avatar_url"] == url
    reconfirmed = confirm(headers, body["key"])  # confirming the swapped upload: rejected, deleted
    assert reconfirmed.status == 422 and not exists(avatar_bucket, body["key"])
    assert get_user(db.get_conn(), user["id"])["avatar_url"] == url and exists(avatar_bucket, key)


def test_an_upload_swapped_between_check_and_copy_is_never_served(make_user, avatar_bucket):
    """The checks run on the served copy: when the upload is replaced by HTML right before the copy
    (hooked into the real client, against moto, which does not enforce CopySourceIfMatch the way S3
    does with a 409), the copy fails the magic-byte check and nothing is served."""
    from shared.clients import s3 as storage

    user, headers = make_user()
    key = f"avatars/{user['id']}/{uuid.uuid4().hex}.png"
    put(avatar_bucket, key, PNG, "image/png")

    def swap(**_: object) -> None:
        put(avatar_bucket, key, b"<html>swapped</html>", "image/png")

    client = storage.get_s3()
    client.meta.events.register("before-call.s3.CopyObject", swap)
    try:
        response = confirm(headers, key)
    finally:
        client.meta.events.unregister("before-call.s3.CopyObject", swap)
    assert response.status == 422 and response.json["error"]["code"] == "invalid_upload"
    assert get_user(db.get_conn(), user["id"])["avatar_url"] is None
    listed = boto3.client("s3").list_objects_v2(Bucket=avatar_bucket, Prefix=f"avatars/{user['id']}/served/")
    assert listed.get("KeyCount", 0) == 0
