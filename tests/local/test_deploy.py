"""``make deploy`` passes the whole stage config plus AppVersion; ``make bootstrap`` creates a stage's
secrets and bucket with boto3 (against moto), once, and never prints a secret."""

from __future__ import annotations

import json
import shlex

import boto3
import pytest
from moto import mock_aws

from local import deploy

SECRETS = ("jwt-keys", "digest-signing", "database", "upstash", "oauth-clients")


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # moto in-process, empty for this test
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


@pytest.mark.parametrize("stage", deploy.STAGES)
def test_deploy_overrides_keep_the_stage_config_and_add_the_version(stage):
    pairs = dict(item.split("=", 1) for item in shlex.split(deploy.deploy_overrides(stage, version="abc1234")))
    assert pairs["Stage"] == stage and pairs["AppVersion"] == "abc1234"
    assert set(deploy.stage_overrides(stage)) <= set(pairs)


def test_samconfig_gives_every_parameter_without_a_default_in_every_stage():
    """`sam deploy --config-env <stage>` must not stop to ask (or fail) for a parameter."""
    from local.template import load_template

    required = {name for name, spec in load_template()["Parameters"].items() if "Default" not in spec}
    for stage in deploy.STAGES:
        assert required <= set(deploy.stage_overrides(stage)), stage
        assert "localhost" not in deploy.stage_overrides(stage)["AllowedOrigins"] or stage == "dev"


def test_bootstrap_creates_every_secret_and_the_private_bucket_once(aws, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw-db-123@pooler.example.com:6543/atribuo")
    monkeypatch.setenv("UPSTASH_REDIS_REST_URL", "https://eu1-example.upstash.io")
    monkeypatch.setenv("UPSTASH_REDIS_REST_TOKEN", "tok-upstash-456")
    monkeypatch.delenv("OAUTH_CLIENTS", raising=False)  # the local stack's; a stage gets its own
    assert deploy.main(["bootstrap", "prod"]) == 0
    printed = capsys.readouterr().out
    manager = aws.client("secretsmanager")
    values = {what: manager.get_secret_value(SecretId=f"atribuo/prod/{what}")["SecretString"] for what in SECRETS}
    assert values["database"] == "postgresql://app:pw-db-123@pooler.example.com:6543/atribuo"
    assert json.loads(values["upstash"]) == {"url": "https://eu1-example.upstash.io", "token": "tok-upstash-456"}
    assert json.loads(values["oauth-clients"]) == {}  # issue 16: every sign-in provider off until configured
    digest_keys = json.loads(values["digest-signing"])["keys"]
    assert len(digest_keys) == 1 and len(digest_keys[0]) >= 40
    key_set = json.loads(values["jwt-keys"])["keys"]
    assert len(key_set) == 1 and key_set[0]["kid"].startswith("prod-") and "PRIVATE KEY" in key_set[0]["private_pem"]
    assert all(value not in printed for value in [*values.values(), "pw-db-123", "tok-upstash-456", digest_keys[0]])
    s3 = aws.client("s3")
    block = s3.get_public_access_block(Bucket="atribuo-prod-avatars")["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_cors(Bucket="atribuo-prod-avatars")["CORSRules"]
    assert [(r["AllowedOrigins"], r["AllowedMethods"]) for r in rules] == [(["https://atribuo.app"], ["POST", "PUT"])]
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket="atribuo-prod-avatars")["Rules"]
    assert {(r["Filter"]["Prefix"], r["Expiration"]["Days"], r["Status"]) for r in lifecycle} == {
        ("exports/", 1, "Enabled"), ("imports/", 1, "Enabled")}  # issue 15: hand-offs go after a day

    again = deploy.bootstrap("prod", session=aws)
    assert set(again.values()) == {"exists"}
    assert manager.get_secret_value(SecretId="atribuo/prod/jwt-keys")["SecretString"] == values["jwt-keys"]


def test_bootstrap_without_the_operator_secrets_creates_the_rest_and_fails(aws, monkeypatch):
    for name in ("DATABASE_URL", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert deploy.main(["bootstrap", "dev"]) == 1
    report = deploy.bootstrap("dev", session=aws)
    assert report["atribuo/dev/jwt-keys"] == "exists" and report["atribuo/dev/digest-signing"] == "exists"
    assert report["atribuo/dev/database"].startswith("missing: set DATABASE_URL")
    assert report["atribuo/dev/upstash"].startswith("missing: set UPSTASH_REDIS_REST_URL")


def test_the_template_reads_the_names_bootstrap_creates():
    text = (deploy.ROOT / "template.yaml").read_text()
    for what in SECRETS:
        assert f"atribuo/${{Stage}}/{what}" in text, what


def test_rotating_the_jwt_keys_publishes_then_promotes_then_retires(aws, monkeypatch):
    from shared.identity.keys import generate_key_set

    manager = aws.client("secretsmanager")
    manager.create_secret(Name="atribuo/prod/jwt-keys", SecretString=generate_key_set(("prod-old",)))
    added = deploy.rotate("add-key", "prod", "jwt-keys", session=aws)
    assert added[0] == "prod-old" and len(added) == 2  # published, not signing yet
    assert deploy.rotate("promote-key", "prod", "jwt-keys", session=aws) == [added[1], "prod-old"]
    assert deploy.rotate("retire-keys", "prod", "jwt-keys", session=aws) == [added[1]]
    monkeypatch.setenv("JWT_KEYS", manager.get_secret_value(SecretId="atribuo/prod/jwt-keys")["SecretString"])
    from shared.clients.registry import reset_all
    from shared.identity import keys

    reset_all()
    assert keys.signing_key().kid == added[1]


def test_rotating_the_digest_keys_signs_with_the_new_one_and_still_verifies_the_old(aws, monkeypatch):
    import uuid

    from shared.clients.registry import reset_all
    from shared.digests.unsubscribe import make_token, read_token

    manager = aws.client("secretsmanager")
    manager.create_secret(Name="atribuo/dev/digest-signing", SecretString="an-old-plain-key-" + "q" * 30)
    monkeypatch.setenv("DIGEST_SIGNING_SECRET", "an-old-plain-key-" + "q" * 30)
    reset_all()
    user = uuid.uuid4()
    old_link = make_token(user)
    assert deploy.rotate("add-key", "dev", "digest-signing", session=aws) == ["key-1", "key-2"]
    monkeypatch.setenv("DIGEST_SIGNING_SECRET", manager.get_secret_value(SecretId="atribuo/dev/digest-signing")
                       ["SecretString"])
    reset_all()
    assert read_token(old_link) == user and make_token(user) != old_link
    with pytest.raises(SystemExit):
        deploy.rotate("promote-key", "dev", "digest-signing", session=aws)


def test_an_r2_stage_gets_its_storage_token_secret_and_no_s3_bucket(aws, monkeypatch, tmp_path):
    config = tmp_path / "samconfig.toml"
    config.write_text(deploy.SAMCONFIG.read_text().replace(
        '"BucketName=atribuo-staging-avatars",',
        '"BucketName=atribuo-staging-avatars", "StorageEndpoint=https://acct.r2.cloudflarestorage.com",'))
    monkeypatch.setattr(deploy, "SAMCONFIG", config)
    monkeypatch.setenv("R2_ACCESS_KEY_ID", "r2-id")
    monkeypatch.setenv("R2_SECRET_ACCESS_KEY", "r2-secret")
    report = deploy.bootstrap("staging", session=aws)
    assert report["atribuo/staging/storage"] == "created"
    stored = aws.client("secretsmanager").get_secret_value(SecretId="atribuo/staging/storage")["SecretString"]
    assert json.loads(stored) == {"access_key_id": "r2-id", "secret_access_key": "r2-secret"}
    assert report["r2://atribuo-staging-avatars"].startswith("not managed here")
    assert aws.client("s3").list_buckets()["Buckets"] == []


def test_the_lifecycle_rules_cover_exactly_the_hand_off_prefixes():
    """Issue 15: what handoff writes expires; avatars (no rule) stay."""
    from shared.identity import handoff

    prefixes = [p.format(user_id="").rstrip("/") + "/" for p in (handoff.EXPORT_PREFIX, handoff.IMPORT_PREFIX)]
    assert sorted(prefixes) == sorted(deploy.HANDOFF_PREFIXES)
    assert not any(r["Filter"]["Prefix"].startswith("avatars") for r in deploy.handoff_lifecycle()["Rules"])


# --- issue 11, the edge ------------------------------------------------------------------------------

def test_bootstrap_makes_the_edge_origin_secret_only_for_stages_behind_the_edge(aws, monkeypatch, capsys):
    for name in ("DATABASE_URL", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert "atribuo/dev/edge" not in deploy.bootstrap("dev", session=aws)  # samconfig: Edge=disabled
    assert deploy.main(["bootstrap", "prod"]) == 1  # the operator's secrets are missing; the rest is made
    stored = json.loads(aws.client("secretsmanager").get_secret_value(SecretId="atribuo/prod/edge")["SecretString"])
    assert list(stored) == ["current"] and len(stored["current"]) >= 40
    assert stored["current"] not in capsys.readouterr().out
    assert deploy.bootstrap("prod", session=aws)["atribuo/prod/edge"] == "exists"


def test_rotating_the_edge_secret_keeps_the_old_value_accepted_until_retired(aws, monkeypatch):
    from shared.clients.registry import reset_all
    from shared.core.settings import get_settings

    manager = aws.client("secretsmanager")
    manager.create_secret(Name="atribuo/prod/edge", SecretString=json.dumps({"current": "o" * 43}))

    def accepted() -> list[str]:
        monkeypatch.setenv("EDGE_ORIGIN_SECRET", manager.get_secret_value(SecretId="atribuo/prod/edge")["SecretString"])
        reset_all()
        return get_settings().edge_origin_keys()

    assert deploy.rotate("add-key", "prod", "edge", session=aws) == ["current", "previous"]
    keys = accepted()
    assert keys[1] == "o" * 43 and keys[0] != keys[1] and len(keys[0]) >= 40
    assert deploy.rotate("retire-keys", "prod", "edge", session=aws) == ["current"]
    assert accepted() == keys[:1]
    with pytest.raises(SystemExit):
        deploy.rotate("promote-key", "prod", "edge", session=aws)
