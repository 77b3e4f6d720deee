"""R2 does not accept the Lambda role's signature: with a storage endpoint, uploads are signed with the
API token in the STORAGE_CREDENTIALS_SECRET secret (moto's Secrets Manager here), and they work."""

from __future__ import annotations

import json
import os
import uuid

import boto3
import httpx

from functions.uploads.app import handler
from shared.clients.registry import reset_all
from tests.support.events import http_event, invoke

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


def _upload(headers: dict) -> dict:
    response = invoke(handler, http_event("POST", "/api/v1/me/avatar/upload", headers=headers,
                                          body={"content_type": "image/png", "content_length": len(PNG)}))
    assert response.status == 200, response
    return response.json


def test_uploads_to_r2_are_signed_with_the_token_from_the_secret(make_user, avatar_bucket, monkeypatch):
    manager = boto3.client("secretsmanager")
    name = f"atribuo/test/storage-{uuid.uuid4().hex}"
    manager.create_secret(Name=name, SecretString=json.dumps({"access_key_id": "r2-token-id",
                                                              "secret_access_key": "r2-token-secret"}))
    try:
        monkeypatch.setenv("STORAGE_ENDPOINT", os.environ["AWS_ENDPOINT_URL"])
        monkeypatch.setenv("STORAGE_CREDENTIALS_SECRET", name)
        reset_all()
        _, headers = make_user()
        body = _upload(headers)
        assert "X-Amz-Credential=r2-token-id%2F" in body["url"]
        assert httpx.put(body["url"], content=PNG, headers=body["headers"]).status_code == 200

        monkeypatch.delenv("STORAGE_CREDENTIALS_SECRET")  # without the secret: the default credentials
        reset_all()
        assert "X-Amz-Credential=r2-token-id" not in _upload(headers)["url"]
    finally:
        manager.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
