"""Exports and imports through the bucket (issue 15): past API Gateway's 6 MB answers and body limit.

Against moto's S3 server: POST /me/export streams the document into the bucket (one PUT, or a
multipart upload once it passes a part) and links to it; GET /me/export answers a large account
with a 303 to such a link; an import is uploaded with a presigned POST and read back with a cap.
"""

from __future__ import annotations

import json
import os
import uuid

import boto3
import httpx
import pytest

from functions.auth.app import handler
from local.lambda_context import LambdaContext
from shared.clients import db
from shared.clients.registry import reset_all
from shared.core.errors import ServiceUnavailableError
from shared.identity import handoff
from tests.functions.auth.test_app import PASSWORD, bearer, call, register
from tests.functions.auth.test_export import comparable, export, seed, sync_snapshot, without_ids
from tests.support import Response, http_event
from tests.support.digests import avatar_bucket  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("avatar_bucket")


@pytest.fixture(autouse=True)
def no_hand_offs_left(avatar_bucket):  # noqa: F811
    """Delete what the test handed off (moto has no lifecycle rules), and work around moto 5.2.5: the
    parts of a completed multipart upload stay tracked with no bucket, and its /moto-api/data.json
    (the SES mailbox every mail test reads) then fails with a 500. The moto server runs in this
    process (local.servers.start_moto), so its tracked parts can be dropped here."""
    yield
    from moto.s3.models import FakeKey

    s3 = boto3.client("s3")
    for prefix in ("exports/", "imports/"):
        for key in keys_under(avatar_bucket, prefix):
            s3.delete_object(Bucket=avatar_bucket, Key=key)
    FakeKey.instances_tracked[:] = [k for k in FakeKey.instances_tracked if k.bucket_name is not None]
    assert httpx.get(f"{os.environ['AWS_ENDPOINT_URL']}/moto-api/data.json").status_code == 200


def keys_under(bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def big_history(pair: dict, rows: int, note_bytes: int) -> None:
    """``rows`` level changes with long notes, written straight into Postgres (the export reads them)."""
    created = call("POST", "/me/import", {"format": "atribuo-export", "version": 1, "skills": [
        {"id": str(uuid.uuid4()), "name": "Piano", "category": "music", "level": 1}]}, headers=bearer(pair))
    assert created.status == 200, created
    db.get_conn().execute(
        "INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, note)"
        " SELECT s.id, s.owner_id, 1 + n %% 9, 1 + (n + 1) %% 9, repeat('n', %s)"
        " FROM skills s, generate_series(1, %s) n WHERE s.owner_id = %s", (note_bytes, rows, pair["user"]["id"]))


def test_post_export_links_the_same_document_get_serves(avatar_bucket):  # noqa: F811
    pair = register()
    seed(pair)
    response = call("POST", "/me/export", {}, headers=bearer(pair))
    assert response.status == 200 and response.headers["cache-control"] == "no-store", response
    link = response.json
    assert link["format"] == "json" and link["expires_in"] == 900 and link["bytes"] > 0
    downloaded = httpx.get(link["url"])
    assert downloaded.status_code == 200 and len(downloaded.content) == link["bytes"]
    assert downloaded.headers["content-disposition"] == 'attachment; filename="atribuo-quester.json"'
    inline = json.loads(export(pair).body)
    assert without_ids(json.loads(downloaded.content)) == without_ids(inline)
    assert keys_under(avatar_bucket, f"exports/{pair['user']['id']}/") == [link["url"].split("?")[0].split(
        f"/{avatar_bucket}/")[1]]

    csv_link = call("POST", "/me/export", {"format": "history_csv"}, headers=bearer(pair)).json
    assert httpx.get(csv_link["url"]).text == export(pair, "/api/v1/me/export/history.csv").body.decode()


def test_a_large_account_goes_multipart_and_get_answers_303_to_it(avatar_bucket):  # noqa: F811
    pair = register()
    big_history(pair, rows=18000, note_bytes=500)  # about 10 MB: over a part, over an API Gateway answer
    # About speed nothing is asserted (bench, not tests): the invocation gets room for a slow machine;
    # running out of time is the next test's subject.
    event = http_event("GET", "/api/v1/me/export", headers=bearer(pair))
    response = Response(handler(event, LambdaContext(function_name="auth", timeout_s=300)))
    assert response.status == 303, response
    downloaded = httpx.get(response.headers["location"])
    assert downloaded.status_code == 200 and len(downloaded.content) > handoff.PART_BYTES  # more than one part
    document = json.loads(downloaded.content)
    assert len(document["history"]) == 18001 and document["skills"][0]["name"] == "Piano"
    uploads = boto3.client("s3").list_multipart_uploads(Bucket=avatar_bucket).get("Uploads", [])
    assert [u for u in uploads if str(pair["user"]["id"]) in u["Key"]] == []  # completed, none left open


def test_a_run_out_of_time_aborts_the_upload_and_leaves_nothing(avatar_bucket, monkeypatch):  # noqa: F811
    pair = register()
    user_id = uuid.UUID(pair["user"]["id"])
    checks = iter([None])

    def in_time() -> None:  # the first part has time, the next one does not
        if next(checks, "late") == "late":
            raise ServiceUnavailableError("the export did not finish in time; try again")

    monkeypatch.setattr(handoff, "_in_time", in_time)
    chunks = iter([b"x" * handoff.PART_BYTES, b"y" * 1024])
    with pytest.raises(ServiceUnavailableError):
        handoff.store_export(user_id, "json", "x.json", chunks)
    assert keys_under(avatar_bucket, f"exports/{user_id}/") == []
    uploads = boto3.client("s3").list_multipart_uploads(Bucket=avatar_bucket).get("Uploads", [])
    assert [u for u in uploads if str(user_id) in u["Key"]] == []  # aborted


def upload(pair: dict, content: bytes) -> str:
    given = call("POST", "/me/import/upload", {}, headers=bearer(pair))
    assert given.status == 200 and given.json["method"] == "POST", given
    assert given.json["key"].startswith(f"imports/{pair['user']['id']}/")
    sent = httpx.post(given.json["url"], data=given.json["fields"],
                      files={"file": ("export.json", content, "application/json")})
    assert sent.status_code in (200, 204), sent.text
    return given.json["key"]


def test_an_uploaded_export_imports_like_a_posted_one_and_the_file_goes(avatar_bucket):  # noqa: F811
    source = register("source")
    seed(source)
    original = export(source).body
    target = register("target")
    key = upload(target, original)
    imported = call("POST", "/me/import/uploaded", {"key": key}, headers=bearer(target))
    assert imported.status == 200 and imported.json["imported"] is True, imported
    assert comparable(sync_snapshot(target)) == comparable(sync_snapshot(source))
    assert without_ids(json.loads(export(target).body)) == without_ids(json.loads(original))
    assert keys_under(avatar_bucket, key) == []  # read, imported, deleted
    again = call("POST", "/me/import/uploaded", {"key": key}, headers=bearer(target))
    assert again.status == 404


def test_someone_elses_or_a_missing_upload_is_404_and_a_bad_file_422(avatar_bucket):  # noqa: F811
    owner, other = register("owner"), register("other")
    key = upload(owner, b'{"format": "atribuo-export", "version": 1, "skills": []}')
    for stranger_key in (key, f"imports/{owner['user']['id']}/{'0' * 32}.json", "avatars/x.png", "../" + key):
        response = call("POST", "/me/import/uploaded", {"key": stranger_key}, headers=bearer(other))
        assert response.status == 404 and response.json["error"]["code"] == "not_found", (stranger_key, response)
    assert keys_under(avatar_bucket, key) == [key]  # untouched by the stranger
    bad = upload(other, b"not json at all")
    response = call("POST", "/me/import/uploaded", {"key": bad}, headers=bearer(other))
    assert response.status == 422 and response.json["error"]["details"][0]["field"] == "file", response
    wrong = upload(other, b'{"format": "other"}')
    response = call("POST", "/me/import/uploaded", {"key": wrong}, headers=bearer(other))
    assert response.status == 422 and response.json["error"]["details"][0]["field"].startswith("file."), response
    nested = upload(other, b"[" * 100_000 + b"]" * 100_000)  # json's recursion limit, not a 500
    response = call("POST", "/me/import/uploaded", {"key": nested}, headers=bearer(other))
    assert response.status == 422 and response.json["error"]["details"][0]["field"] == "file", response


def test_an_upload_past_the_cap_is_413(avatar_bucket, monkeypatch):  # noqa: F811
    pair = register()
    monkeypatch.setenv("IMPORT_UPLOAD_MAX_BYTES", "100")
    reset_all()
    key = f"imports/{pair['user']['id']}/{uuid.uuid4().hex}.json"
    boto3.client("s3").put_object(Bucket=avatar_bucket, Key=key, Body=b" " * 101)  # as an R2 PUT could
    response = call("POST", "/me/import/uploaded", {"key": key}, headers=bearer(pair))
    assert response.status == 413 and response.json["error"]["code"] == "payload_too_large", response


def test_deleting_the_account_deletes_its_exports_and_uploads(avatar_bucket):  # noqa: F811
    pair = register()
    call("POST", "/me/export", {}, headers=bearer(pair))
    upload(pair, b"{}")
    user_id = pair["user"]["id"]
    assert keys_under(avatar_bucket, f"exports/{user_id}/") and keys_under(avatar_bucket, f"imports/{user_id}/")
    assert call("DELETE", "/me", {"password": PASSWORD}, headers=bearer(pair)).status == 204
    assert keys_under(avatar_bucket, f"exports/{user_id}/") == keys_under(avatar_bucket, f"imports/{user_id}/") == []


def test_exports_and_imports_share_a_per_user_hourly_limit(avatar_bucket, monkeypatch):  # noqa: F811
    """Each reads or writes a whole account: a token in a loop gets 429s, and another user does not."""
    from shared.core.settings import reset_settings

    monkeypatch.setenv("DATA_TRANSFERS_PER_HOUR", "3")
    reset_settings()
    busy, calm = register("busy"), register("calm")
    statuses = [call("POST", "/me/export", {"format": "json"}, headers=bearer(busy)).status for _ in range(3)]
    statuses.append(call("POST", "/me/import/upload", None, headers=bearer(busy)).status)
    assert statuses == [200, 200, 200, 429]
    assert call("POST", "/me/export", {"format": "json"}, headers=bearer(calm)).status == 200
