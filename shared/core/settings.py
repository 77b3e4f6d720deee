"""One validated settings object, read once per container.

Plain values come from environment variables (names in ``shared.constants`` and ``template.yaml``).
Secrets come from the environment locally and from Secrets Manager in AWS, through Powertools
parameters (cached, so a warm container does not call Secrets Manager per request). boto3 is only
imported when a secret really has to be fetched.
"""

from __future__ import annotations

import json
from functools import lru_cache

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "todo", "xxx"}
SECRET_MAX_AGE_S = 300


class Settings(BaseSettings):
    """Everything configurable. Field names are the env var names, case-insensitive."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    stage: str = "local"
    app_version: str = "0.1.0"
    powertools_service_name: str = "atribuo"

    database_url: SecretStr | None = None
    database_url_secret: str | None = None
    db_connect_timeout_s: int = 3
    # The server-side statement timeout is the database role's (migration 008 sets 5 s): a pooler in
    # transaction mode keeps no per-connection setting. This is what the code budgets for it
    # (maintenance); DB_READ_TIMEOUT_S, the client-side deadline of every round trip, is longer so
    # that a slow statement gets the server's clean error first and only a silent server meets it.
    db_statement_timeout_ms: int = 5000
    db_read_timeout_s: float = 6.0

    upstash_redis_rest_url: str | None = None
    upstash_redis_rest_token: SecretStr | None = None
    upstash_secret: str | None = None
    redis_timeout_s: float = 2.0

    jwt_keys: SecretStr | None = None
    jwt_keys_secret: str | None = None
    jwt_issuer: str = "https://atribuo.app"
    jwt_audience: str = "atribuo-api"
    access_token_ttl_s: int = 900
    jwt_leeway_s: int = 30

    # Sessions and throttling (issue 3): refresh-token idle expiry and two-tab grace window; attempts
    # per minute for one account from one IP, and for all auth routes from one IP.
    refresh_idle_ttl_s: int = 30 * 24 * 3600
    refresh_grace_s: int = 10
    login_attempts_per_min: int = 10
    # Issue 15: per account + IP, whatever was typed (username or e-mail); never answered as 429.
    account_login_attempts_per_min: int = 10
    auth_ip_requests_per_min: int = 60

    allowed_origins: str = "http://localhost:5173"
    max_body_bytes: int = 64 * 1024

    # Avatars (issue 6). storage_endpoint None = AWS S3 (presigned POST); an R2 endpoint
    # (https://<account>.r2.cloudflarestorage.com) switches uploads to presigned PUT.
    avatar_bucket: str = "atribuo-avatars"
    storage_endpoint: str | None = None
    storage_region: str | None = None
    # Issue 11: R2 does not accept the Lambda role's signature: its API token, a JSON secret
    # {"access_key_id", "secret_access_key"} (atribuo/<stage>/storage), signs instead.
    storage_credentials_secret: str | None = None
    avatar_public_base_url: str = "http://127.0.0.1:3000/avatars-cdn"

    # Weekly digests (issue 6).
    digest_queue_url: str | None = None
    digest_from_email: str = "digest@atribuo.app"
    public_api_url: str = "http://127.0.0.1:3000"
    digest_signing_secret: SecretStr | None = None
    digest_signing_secret_arn: str | None = None

    # Accounts (issue 15): the sender of account mail, where mailed links point (the web app's pages,
    # which POST the token to the API), link lifetimes, and the throttles of the mail-sending routes.
    mail_from_email: str = "accounts@atribuo.app"
    # A deleted account's username stays reserved this long, so nobody can take over its public link.
    username_reserve_s: int = 180 * 24 * 3600
    mail_queue_url: str | None = None
    mail_configuration_set: str | None = None  # SES publishes its bounces/complaints to the feedback function
    public_app_url: str = "http://localhost:5173"
    verify_email_ttl_s: int = 48 * 3600
    reset_password_ttl_s: int = 3600
    # Step-up for DELETE /me and POST /me/email without a password: the access token's ``auth_time``
    # (set at a sign-in, never by a refresh) must be at most this old. OAuth-only accounts re-sign-in.
    reauth_window_s: int = 300
    # Accounts older than e-mail verification (migration 019) are each sent one verification link by the
    # daily maintenance, at most this many a run (SES sending quota and reputation: no burst to old lists).
    verification_invites_per_run: int = 1000
    # Exports and imports through the bucket (issue 15): API Gateway answers at most 6 MB and takes
    # requests up to the body limit, so GET /me/export serves inline only what is estimated under
    # export_inline_max_bytes (else 303 to a presigned link); the links live export_link_ttl_s; an import
    # uploaded to the bucket may be import_upload_max_bytes. The bucket's lifecycle rule (local.deploy)
    # deletes exports/ and imports/ objects after a day.
    export_inline_max_bytes: int = 4_000_000
    export_link_ttl_s: int = 900
    import_upload_max_bytes: int = 16 * 1024 * 1024
    # Each export or import reads or writes a whole account (an export also writes a file to the
    # bucket): per user and hour, so one token in a loop cannot cost unbounded database time and storage.
    data_transfers_per_hour: int = 30
    verify_resend_per_hour: int = 3
    forgot_per_email_per_hour: int = 3
    forgot_per_ip_per_hour: int = 20

    # Realtime (issue 5): the wss:// URL clients connect to, and the management API endpoint
    # (https://{api}.execute-api.{region}.amazonaws.com/{stage}) that functions post to.
    websocket_url: str | None = None
    websocket_management_url: str | None = None
    ws_ticket_ttl_s: int = 60
    ws_max_lifetime_s: int = 2 * 60 * 60
    # Issue 12: the function $connect invokes asynchronously to send the hello frame (none: no hello).
    ws_hello_function: str | None = None

    # People search (issue 17): GET /users?q= requests per minute from one IP (fails open: public data).
    search_requests_per_min: int = 60

    # Sign-in with Google, Discord, Facebook (issue 16; shared.identity.oauth). ``oauth_providers``
    # is a JSON object of per-provider overrides of the built-in endpoint table (the local stack points
    # every provider at its own OpenID provider); ``oauth_clients`` / ``oauth_clients_secret`` hold
    # ``{"google": {"client_id", "client_secret"}, …}`` (a provider without credentials is off);
    # ``oauth_redirect_uris`` is the allow-list of frontend callback URLs, comma-separated.
    oauth_providers: str | None = None
    oauth_clients: SecretStr | None = None
    oauth_clients_secret: str | None = None
    oauth_redirect_uris: str = "http://localhost:5173/auth/callback"
    oauth_state_ttl_s: int = 600
    oauth_http_timeout_s: float = 5.0
    oauth_callbacks_per_min: int = 20

    # Rank depth (issue 17): uncached rank reads (GET /leaderboard/me, ?around=me, ?cursor= pages) per
    # minute from one IP; each counts the board entries ahead of a key (fails open, as search).
    rank_requests_per_min: int = 120

    # The edge (issue 11): CloudFront sends every request for the HTTP API with the header
    # ``X-Origin-Verify: <per-stage secret>``; only a request that carries it may name the caller's address
    # in ``CloudFront-Viewer-Address`` (shared.http.viewer). ``{"current": …, "previous": …}`` (CloudFront
    # sends current; both are accepted, so a rotation drops no request), from the environment or the
    # secret atribuo/<stage>/edge. Neither set: every request is judged by API Gateway's sourceIp.
    edge_origin_secret: SecretStr | None = None
    edge_origin_secret_name: str | None = None
    # Set where the edge is on (template.yaml): a request without the proof came around the WAF, by
    # the API's execute-api URL, and is refused with 403 (shared.http.edge).
    edge_required: bool = False

    # Achievements (issue 17): rarity (share of all users holding one) is shown only when at least
    # this many users hold it, so a rare award never points at the one or two people who have it.
    achievement_rarity_min_holders: int = 10
    # Backfill of users from before achievements (a one-off maintenance step): users per statement.
    achievement_backfill_users: int = 200

    # Maintenance (the daily MaintenanceFunction, shared.ops.maintenance): how long data nobody reads any
    # more is kept. Why each default:
    # * maintenance_batch_rows: at most this many rows per DELETE (per kind), so a statement takes
    #   milliseconds and never holds row locks that writers would queue behind.
    # * sync_log_keep_versions: a device up to 1000 edits behind (months of normal use) catches up
    #   with two delta pages; further behind, one snapshot (the size of GET /skills) is cheaper.
    # * refresh_revoked_retention_s: ROTATE answers 'invalid' for any token of a revoked family
    #   before it looks at rotation (the same 401 an unknown token gets), so reuse detection needs
    #   nothing once a family is revoked; a week keeps recent sign-outs (a 'reuse' above all)
    #   inspectable for support. Live families keep every unexpired rotated token (reuse detection).
    # * sync_op_retention_s: an offline batch is replayed only when its answer was lost, by a device
    #   that still holds a session; 30 days is the refresh idle expiry. A replay after that is
    #   applied again, and last-write-wins by updated_at makes it 'unchanged' or a logged conflict.
    # * sync_conflict_retention_s: each conflict was announced live and the losing level stays in
    #   the skill's history for good; the log only answers "why did my edit lose?", asked within weeks.
    # * digest_send_retention_s: a (user, ISO week) claim must outlive every redelivery of that week's
    #   page (SQS 1 day, DLQ redrive 14 days, scheduler retries within the hour); 8 weeks is 4x that.
    maintenance_batch_rows: int = 1000
    sync_log_keep_versions: int = 1000
    refresh_revoked_retention_s: int = 7 * 24 * 3600
    sync_op_retention_s: int = 30 * 24 * 3600
    sync_conflict_retention_s: int = 90 * 24 * 3600
    digest_send_retention_s: int = 8 * 7 * 24 * 3600
    # * idempotency_key_ttl_s (issue 13): a client retries a write within minutes of losing its
    #   answer; a day covers a phone that was offline overnight. Older keys run as new requests.
    idempotency_key_ttl_s: int = 24 * 3600
    # * security_event_retention_s (issue 15): the log answers "was that me?", asked within months;
    #   a year covers it and keeps the table bounded. Expired mailed links and expired username
    #   tombstones go as soon as they expire (nothing reads them after).
    security_event_retention_s: int = 365 * 24 * 3600

    @field_validator("database_url", "upstash_redis_rest_token", "digest_signing_secret")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        """Refuse obviously fake secrets so a half-configured stage fails at start, not at 3 a.m."""
        if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDERS:
            raise ValueError("a placeholder value is not a secret; configure the real one")
        return value

    @property
    def redirect_uris(self) -> list[str]:
        return [u.strip() for u in self.oauth_redirect_uris.split(",") if u.strip()]

    def oauth_client_credentials(self) -> dict[str, dict[str, str]]:
        """``{provider: {"client_id", "client_secret"}}`` from the environment or (in AWS) the named secret."""
        if self.oauth_clients is not None:
            return json.loads(self.oauth_clients.get_secret_value())
        if not self.oauth_clients_secret:
            return {}
        return json.loads(_fetch_secret(self.oauth_clients_secret))

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]

    def database_dsn(self) -> str:
        """The Postgres URL, from the environment or (in AWS) the named secret."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        if not self.database_url_secret:
            raise RuntimeError("set DATABASE_URL or DATABASE_URL_SECRET")
        return _fetch_secret(self.database_url_secret)

    def jwt_key_set(self, *, fresh: bool = False) -> str:
        """The JSON key set ``{"keys": [{"kid", "private_pem"}, …]}``; the first key signs.
        ``fresh``: bypass the secret cache (a token named a kid the cached set lacks)."""
        if self.jwt_keys is not None:
            return self.jwt_keys.get_secret_value()
        if not self.jwt_keys_secret:
            raise RuntimeError("set JWT_KEYS or JWT_KEYS_SECRET")
        return _fetch_secret(self.jwt_keys_secret, fresh=fresh)

    def upstash_credentials(self) -> tuple[str, str]:
        """(REST URL, token): from the environment, or a JSON secret ``{"url": …, "token": …}``."""
        if self.upstash_redis_rest_url and self.upstash_redis_rest_token:
            return self.upstash_redis_rest_url, self.upstash_redis_rest_token.get_secret_value()
        if not self.upstash_secret:
            raise RuntimeError("set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, or UPSTASH_SECRET")
        data = json.loads(_fetch_secret(self.upstash_secret))
        return data["url"], data["token"]

    def digest_signing_keys(self) -> list[bytes]:
        """The HMAC keys for unsubscribe links, from the environment or (in AWS) Secrets Manager:
        ``{"keys": ["new", "old", …]}`` (the first signs, every one verifies, so a rotation keeps
        the links already emailed working) or, as before, one plain key."""
        if self.digest_signing_secret is not None:
            raw = self.digest_signing_secret.get_secret_value()
        elif self.digest_signing_secret_arn:
            raw = _fetch_secret(self.digest_signing_secret_arn)
        else:
            raise RuntimeError("set DIGEST_SIGNING_SECRET or DIGEST_SIGNING_SECRET_ARN")
        keys = json.loads(raw)["keys"] if raw.lstrip().startswith("{") else [raw]
        if not keys or any(not key or key.strip().lower() in PLACEHOLDERS for key in keys):
            raise RuntimeError("the digest signing key list is empty or holds a placeholder")
        return [key.encode() for key in keys]

    def edge_origin_keys(self) -> list[str]:
        """The origin-verify values a request from our CloudFront distribution may carry (none: the edge
        is off, or not configured here). Read only when a request carries the header at all."""
        if self.edge_origin_secret is not None:
            raw = self.edge_origin_secret.get_secret_value()
        elif self.edge_origin_secret_name:
            raw = _fetch_secret(self.edge_origin_secret_name)
        else:
            return []
        data = json.loads(raw)
        return [key for key in (data.get("current"), data.get("previous")) if isinstance(key, str) and len(key) >= 16]


def storage_credentials(settings: Settings) -> tuple[str, str] | None:
    """(access key id, secret access key) for an explicit storage endpoint (R2), or None: the
    default AWS credentials (the Lambda role) sign."""
    if not settings.storage_credentials_secret:
        return None
    data = json.loads(_fetch_secret(settings.storage_credentials_secret))
    return data["access_key_id"], data["secret_access_key"]


def _fetch_secret(name: str, *, fresh: bool = False) -> str:
    """Read a secret through Powertools parameters, cached for SECRET_MAX_AGE_S seconds (a rotated
    value reaches a warm container within that); ``fresh`` bypasses the cache."""
    from aws_lambda_powertools.utilities import parameters

    from shared.core import tracing

    tracing.patch_botocore()  # Secrets Manager calls appear in the trace like every AWS call
    return str(parameters.get_secret(name, max_age=SECRET_MAX_AGE_S, force_fetch=fresh))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, built on first use."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests, and the local stack after it changes the environment)."""
    get_settings.cache_clear()
