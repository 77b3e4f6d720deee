"""The local gateway's own assets over real HTTP: the CDN stand-in for avatars, offline Swagger UI."""

from __future__ import annotations

import boto3
import httpx
import pytest

from local.aws_resources import avatar_bucket_cors, ensure_avatar_bucket
from local.http_gateway import CDN_PREFIX
from tests.support.gateway import local_gateway


@pytest.fixture(scope="module")
def gateway(stack):
    with local_gateway() as url:
        yield url


def test_objects_are_served_from_the_private_bucket_and_missing_ones_are_404(gateway):
    bucket = ensure_avatar_bucket()
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="avatars/u/a.png", Body=b"\x89PNG\r\n\x1a\n-bytes", ContentType="image/png")
    found = httpx.get(f"{gateway}{CDN_PREFIX}/avatars/u/a.png")
    assert found.status_code == 200 and found.content == b"\x89PNG\r\n\x1a\n-bytes"
    assert found.headers["content-type"] == "image/png" and "immutable" in found.headers["cache-control"]
    assert httpx.get(f"{gateway}{CDN_PREFIX}/avatars/u/missing.png").status_code == 404
    assert httpx.head(f"{gateway}{CDN_PREFIX}/avatars/u/a.png").status_code == 200


def test_the_bucket_allows_browser_uploads_from_the_allowed_origins_only():
    bucket = ensure_avatar_bucket()
    rules = boto3.client("s3").get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules == avatar_bucket_cors(["http://localhost:5173"])["CORSRules"]
    assert "GET" not in rules[0]["AllowedMethods"]  # reads go through the CDN; the bucket stays private


def test_swagger_ui_is_served_offline_from_the_pip_bundle(gateway):
    html = httpx.get(f"{gateway}/docs").text
    assert "cdn.jsdelivr.net" not in html and "/docs/static/swagger-ui-bundle.js" in html
    script = httpx.get(f"{gateway}/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert len(script.content) > 100_000
    assert httpx.get(f"{gateway}/docs/static/swagger-ui.css").status_code == 200
    assert httpx.get(f"{gateway}/docs/static/..%2F..%2F__init__.py").status_code == 404


def test_the_realtime_protocol_page_renders_every_message_of_the_asyncapi_document(gateway):
    import yaml

    from local.docs import ASYNCAPI

    page = httpx.get(f"{gateway}/docs/realtime")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name in yaml.safe_load(ASYNCAPI.read_text())["components"]["messages"]:
        assert f"<h3 id='{name}'>" in page.text
    assert "sendPing" in page.text and "X-Connection-Id" in page.text
