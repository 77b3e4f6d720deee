"""``make deploy ENV=…`` and ``make bootstrap ENV=…``: what a stage needs besides ``sam deploy``.

``overrides <stage>`` prints the stage's ``parameter_overrides`` from samconfig.toml plus
``AppVersion=<git commit>``: ``sam deploy --parameter-overrides`` *replaces* the config's overrides,
so passing AppVersion alone would deploy a new stack with the template's defaults (Stage=dev).

``bootstrap <stage>`` creates, with boto3, what must exist before the first deploy of a stage and is
not part of the stack, leaving whatever already exists untouched (run it again safely):

* ``atribuo/<stage>/jwt-keys``: a fresh RS256 key set ``{"keys": [{"kid", "private_pem"}]}``;
* ``atribuo/<stage>/digest-signing``: ``{"keys": ["<random>"]}`` (the first key signs, all verify);
* ``atribuo/<stage>/database``: the pooled Postgres URL, from ``DATABASE_URL``;
* ``atribuo/<stage>/upstash``: ``{"url", "token"}`` from ``UPSTASH_REDIS_REST_URL``/``_TOKEN``;
* ``atribuo/<stage>/oauth-clients`` (issue 16): the sign-in providers' ``{"google": {"client_id",
  "client_secret"}, …}`` from ``OAUTH_CLIENTS``, else ``{}`` (every provider off until the operator
  puts credentials in the secret);
* ``atribuo/<stage>/storage`` when the stage sets ``StorageEndpoint`` (R2): ``{"access_key_id",
  "secret_access_key"}`` from ``R2_ACCESS_KEY_ID``/``R2_SECRET_ACCESS_KEY``;
* ``atribuo/<stage>/edge`` when the stage runs behind the edge (``Edge`` not ``disabled``; issue 11):
  ``{"current": "<random>"}``, the value CloudFront sends the API as ``X-Origin-Verify``;
* the avatar bucket named by the stage's ``BucketName``, private (all public access blocked; on AWS S3).

The two external secrets can only come from the operator: without their variables they are reported
as missing (exit status 1) and everything else is still created. No secret value is ever printed.

Key rotation (docs/operations.md), each step one ``put-secret-value`` that running containers pick up
(an unknown kid at once, everything else within the 5-minute secret cache):

* ``add-key <stage> jwt-keys``: a fresh key *last*: published and verifying, not signing yet;
* ``promote-key <stage> jwt-keys``: the last key becomes the first, the one that signs;
* ``add-key <stage> digest-signing``: a fresh key *first*: new links use it, old links still verify;
* ``retire-keys <stage> jwt-keys|digest-signing``: keep only the first key;
* ``add-key <stage> edge``: a fresh ``current``, the old one kept as ``previous`` (both accepted), then
  a deploy with ``EdgeOriginSecretGeneration`` bumped makes CloudFront send the new one;
  ``retire-keys <stage> edge`` then drops ``previous``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMCONFIG = ROOT / "samconfig.toml"
STAGES = ("dev", "staging", "prod")


def secret_name(stage: str, what: str) -> str:
    """The stage-derived name template.yaml reads (DATABASE_URL_SECRET etc.)."""
    return f"atribuo/{stage}/{what}"


def stage_overrides(stage: str, config: Path | None = None) -> dict[str, str]:
    """``Key=Value`` pairs of the stage's ``parameter_overrides`` in samconfig.toml."""
    if stage not in STAGES:
        raise SystemExit(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
    raw = tomllib.loads((config or SAMCONFIG).read_text())[stage]["deploy"]["parameters"]["parameter_overrides"]
    items = raw if isinstance(raw, list) else raw.split()
    return dict(item.split("=", 1) for item in items)


def deploy_overrides(stage: str, version: str | None = None) -> str:
    """The whole ``--parameter-overrides`` value for ``make deploy``: the stage's, plus AppVersion."""
    pairs = stage_overrides(stage)
    if pairs.get("Stage") != stage:
        raise SystemExit(f"samconfig.toml: [{stage}] must set Stage={stage}")
    pairs["AppVersion"] = version or _git_version()
    return " ".join(f"{key}={value}" for key, value in pairs.items())


def _git_version() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,  # noqa: S607
                          cwd=ROOT, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,  # noqa: S607
                           text=True, cwd=ROOT, check=True).stdout.strip()
    return f"{head}-dirty" if dirty else head


def _generated(stage: str) -> dict[str, Callable[[], str | None]]:
    """Each secret's value maker; None means the operator has to provide it."""
    from shared.identity.keys import generate_key_set

    def from_env(*names: str) -> Callable[[], str | None]:
        def make() -> str | None:
            values = [os.environ.get(name) for name in names]
            if not all(values):
                return None
            if len(values) == 1:
                return values[0]
            return json.dumps({"url": values[0], "token": values[1]})
        return make

    made = {
        secret_name(stage, "jwt-keys"): lambda: generate_key_set((f"{stage}-{secrets.token_hex(4)}",)),
        secret_name(stage, "digest-signing"): lambda: json.dumps({"keys": [secrets.token_urlsafe(32)]}),
        secret_name(stage, "database"): from_env("DATABASE_URL"),
        secret_name(stage, "upstash"): from_env("UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"),
        secret_name(stage, "oauth-clients"): lambda: os.environ.get("OAUTH_CLIENTS") or "{}",
    }
    if stage_overrides(stage).get("StorageEndpoint"):  # R2: its API token signs the avatar uploads

        def storage() -> str | None:
            key_id, secret = os.environ.get("R2_ACCESS_KEY_ID"), os.environ.get("R2_SECRET_ACCESS_KEY")
            return json.dumps({"access_key_id": key_id, "secret_access_key": secret}) if key_id and secret else None

        made[secret_name(stage, "storage")] = storage
    if stage_overrides(stage).get("Edge", "enabled") != "disabled":  # issue 11: CloudFront's origin secret
        made[secret_name(stage, "edge")] = lambda: json.dumps({"current": secrets.token_urlsafe(32)})
    return made


PROVIDED_BY = {"database": "DATABASE_URL", "upstash": "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN",
               "storage": "R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY"}


def bootstrap(stage: str, *, session: Any = None) -> dict[str, str]:
    """Create what is missing for ``stage``; returns ``{resource: "created" | "exists" | "missing: …"}``."""
    import boto3

    session = session or boto3.session.Session()
    manager = session.client("secretsmanager")
    report: dict[str, str] = {}
    for name, make in _generated(stage).items():
        if _secret_exists(manager, name):
            report[name] = "exists"
            continue
        value = make()
        if value is None:
            report[name] = f"missing: set {PROVIDED_BY[name.rsplit('/', 1)[1]]} and run again"
            continue
        manager.create_secret(Name=name, SecretString=value, Tags=[{"Key": "atribuo:stage", "Value": stage}])
        report[name] = "created"
    overrides = stage_overrides(stage)
    bucket = overrides["BucketName"]
    if overrides.get("StorageEndpoint"):
        report[f"r2://{bucket}"] = "not managed here: create the bucket and its API token in Cloudflare"
    else:
        report[f"s3://{bucket}"] = _ensure_bucket(session.client("s3"), bucket)
        # Issue 12: browsers upload avatars straight to the bucket (presigned POST/PUT) from the stage's
        # origins; set on every run, so the rules follow AllowedOrigins in samconfig.toml.
        origins = [o.strip() for o in overrides["AllowedOrigins"].split(",") if o.strip()]
        session.client("s3").put_bucket_cors(Bucket=bucket, CORSConfiguration=avatar_bucket_cors(origins))
        # Issue 15: exports and uploaded imports are hand-offs, not storage: gone after a day.
        session.client("s3").put_bucket_lifecycle_configuration(Bucket=bucket,
                                                                LifecycleConfiguration=handoff_lifecycle())
    return report


# Issue 15: the prefixes of shared.identity.handoff (a test keeps them equal).
HANDOFF_PREFIXES = ("exports/", "imports/")


def handoff_lifecycle() -> dict[str, Any]:
    """The bucket's lifecycle rules: objects under the hand-off prefixes (exports linked for download,
    imports uploaded for reading back) expire a day after they were written, and multipart uploads an
    export run abandoned are aborted after a day. Avatars are untouched. ``bootstrap`` sets them on the
    stage's S3 bucket, ``local.aws_resources`` on the local one; on R2, set the same rules in Cloudflare."""
    return {"Rules": [{"ID": f"atribuo-{prefix.rstrip('/')}-after-a-day", "Filter": {"Prefix": prefix},
                       "Status": "Enabled", "Expiration": {"Days": 1},
                       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
                      for prefix in HANDOFF_PREFIXES]}


def avatar_bucket_cors(origins: list[str]) -> dict[str, Any]:
    """The CORS rules the avatar bucket needs for browsers to POST (S3) or PUT (R2) presigned uploads.

    ``bootstrap`` sets them on the stage's bucket, ``local.aws_resources`` on the local one; reads go
    through the CDN, so no GET rule: the bucket stays private.
    """
    return {"CORSRules": [{"AllowedOrigins": origins, "AllowedMethods": ["POST", "PUT"], "AllowedHeaders": ["*"],
                           "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]}


def _secret_exists(manager: Any, name: str) -> bool:
    try:
        manager.describe_secret(SecretId=name)
    except manager.exceptions.ResourceNotFoundException:
        return False
    return True


def _ensure_bucket(s3: Any, bucket: str) -> str:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
        return "exists"
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise  # 403: the name belongs to someone else; pick another BucketName in samconfig.toml
    region = s3.meta.region_name
    options = {} if region in (None, "us-east-1") else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **options)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    return "created"


ROTATABLE = ("jwt-keys", "digest-signing", "edge")


def rotate(command: str, stage: str, what: str, *, session: Any = None) -> list[str]:
    """Apply one rotation step to ``atribuo/<stage>/<what>``; returns the key ids in order (JWT kids,
    ``key-1``… for HMAC keys, ``current``/``previous`` for the edge secret; never a key)."""
    import boto3

    if what not in ROTATABLE or (command == "promote-key" and what != "jwt-keys"):
        raise SystemExit(f"{command} does not apply to {what}")
    manager = (session or boto3.session.Session()).client("secretsmanager")
    name = secret_name(stage, what)
    raw = manager.get_secret_value(SecretId=name)["SecretString"]
    if what == "edge":  # {"current", "previous"}: CloudFront sends current, the API accepts both
        current = json.loads(raw)["current"]
        value = {"current": secrets.token_urlsafe(32), "previous": current} if command == "add-key" else {
            "current": current}
        manager.put_secret_value(SecretId=name, SecretString=json.dumps(value))
        return list(value)
    if what == "jwt-keys":
        from shared.identity.keys import generate_key_set

        keys = json.loads(raw)["keys"]
        if command == "add-key":
            keys.append(json.loads(generate_key_set((f"{stage}-{secrets.token_hex(4)}",)))["keys"][0])
        elif command == "promote-key":
            keys.insert(0, keys.pop())
        else:
            keys = keys[:1]
        ids = [key["kid"] for key in keys]
    else:
        keys = json.loads(raw)["keys"] if raw.lstrip().startswith("{") else [raw]
        keys = [secrets.token_urlsafe(32), *keys] if command == "add-key" else keys[:1]
        ids = [f"key-{index + 1}" for index in range(len(keys))]
    manager.put_secret_value(SecretId=name, SecretString=json.dumps({"keys": keys}))
    return ids


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] in ("add-key", "promote-key", "retire-keys"):
        print(f"{secret_name(argv[1], argv[2])}: " + ", ".join(rotate(*argv)))
        return 0
    if len(argv) != 2 or argv[0] not in ("overrides", "bootstrap"):
        print("usage: python -m local.deploy overrides|bootstrap <stage>\n"
              "       python -m local.deploy add-key|promote-key|retire-keys <stage> jwt-keys|digest-signing|edge",
              file=sys.stderr)
        return 2
    command, stage = argv
    if command == "overrides":
        print(deploy_overrides(stage))
        return 0
    report = bootstrap(stage)
    for resource, state in report.items():
        print(f"{resource}: {state}")
    return 1 if any(state.startswith("missing") for state in report.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
