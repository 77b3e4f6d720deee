"""Sign-in with an external provider, the protocol half: the authorization-code flow with PKCE (S256),
``state`` and ``nonce`` kept server-side, the code exchange, and proving who the user is there.

Authlib's OAuth 2.0 client builds the authorize URL (``code_challenge`` from the verifier) and makes the
token request (``code_verifier``, client authentication). ID tokens are verified with joserfc, the JOSE
library Authlib builds on: signature by the provider's JWKS, ``alg`` pinned to RS256 (so ``none`` and
HMAC forgeries fail), then ``iss``, ``aud`` (and ``azp`` when several audiences), ``exp``, ``iat``,
``sub`` and our ``nonce``. OAuth 2.0-only providers (Discord, Facebook) prove the user through their
user endpoint, called with the access token just obtained over TLS from their token endpoint.

**Providers are data.** ``BUILT_IN`` holds each provider's endpoints, scope and how to read its user;
``OAUTH_PROVIDERS`` (JSON) overrides or adds entries per stage, and a provider is enabled only when
its client id and secret are configured (``OAUTH_CLIENTS`` locally, ``OAUTH_CLIENTS_SECRET`` in AWS).
Adding Apple or GitHub is an entry here plus, for a new user-endpoint shape, a mapping in ``PROFILES``.

**State** is 256 random bits. Redis keeps ``sha256(state) → {provider, PKCE verifier, nonce,
redirect URI, user id when linking}`` for ``OAUTH_STATE_TTL_S`` and the callback redeems it with
``GETDEL``, like a WebSocket ticket: one use, even when two callbacks race. The verifier and nonce never
leave the server. Redirect URIs come from the ``OAUTH_REDIRECT_URIS`` allow-list, exactly.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from shared.clients import registry
from shared.clients.redis import get_redis
from shared.core.deadline import clamp, clamp_httpx_request
from shared.core.errors import NotFoundError, OAuthFailedError, ServiceUnavailableError, ValidationFailedError
from shared.core.i18n import N_
from shared.core.observability import logger
from shared.core.settings import get_settings

STATE_PREFIX = "oauth-state:"
ID_TOKEN_ALGORITHMS = ["RS256"]
ID_TOKEN_LEEWAY_S = 60
JWKS_MAX_AGE_S = 3600
JWKS_REFETCH_AFTER_S = 60  # an unknown kid refetches the key set, at most this often

BUILT_IN: dict[str, dict[str, Any]] = {
    "google": {
        "protocol": "oidc",
        "issuers": ["https://accounts.google.com", "accounts.google.com"],
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://oauth2.googleapis.com/token",
        "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
        "scope": "openid email profile",
        "profile": "oidc",
    },
    "discord": {
        "protocol": "oauth2",
        "authorize_url": "https://discord.com/oauth2/authorize",
        "token_url": "https://discord.com/api/oauth2/token",
        "userinfo_url": "https://discord.com/api/users/@me",
        "scope": "identify email",
        "profile": "discord",
    },
    "facebook": {
        "protocol": "oauth2",
        "authorize_url": "https://www.facebook.com/v19.0/dialog/oauth",
        "token_url": "https://graph.facebook.com/v19.0/oauth/access_token",
        "userinfo_url": "https://graph.facebook.com/v19.0/me?fields=id,name,email",
        "scope": "email public_profile",
        "profile": "facebook",
    },
}


@dataclass(frozen=True)
class Provider:
    name: str
    protocol: Literal["oidc", "oauth2"]
    authorize_url: str
    token_url: str
    scope: str
    profile: str
    client_id: str
    client_secret: str
    issuers: tuple[str, ...] = ()
    jwks_uri: str | None = None
    userinfo_url: str | None = None
    token_auth: str = "client_secret_post"  # noqa: S105 - an auth method's name


@dataclass(frozen=True)
class ExternalProfile:
    """Who the provider says the user is. ``subject`` is the only stable key; the rest is a claim."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    username: str | None
    display_name: str | None


@dataclass(frozen=True)
class FlowState:
    provider: str
    verifier: str
    nonce: str
    redirect_uri: str
    user_id: uuid.UUID | None  # set when a signed-in user is linking this provider


def _text(value: Any, limit: int = 100) -> str | None:
    """A provider's free text as we may store it: a trimmed string without NULs, cut to ``limit``."""
    if not isinstance(value, str):
        return None
    return value.replace("\x00", "").strip()[:limit] or None


def _email(value: Any) -> str | None:
    """An address we can store (one ``@``, at most 320 characters), else None: treated as no e-mail."""
    email = _text(value, limit=1000)
    return email if email and len(email) <= 320 and email.count("@") == 1 and " " not in email else None


def _subject(value: Any) -> str:
    subject = str(value) if isinstance(value, (str, int)) else ""
    if not 1 <= len(subject) <= 255 or "\x00" in subject:
        raise OAuthFailedError("the provider did not say who signed in", code="code_rejected")
    return subject


def _local_part(email: str | None) -> str | None:
    return email.split("@")[0] if email else None


def _oidc_profile(name: str, claims: dict[str, Any]) -> ExternalProfile:
    email = _email(claims.get("email"))
    return ExternalProfile(name, _subject(claims.get("sub")), email,
                           email is not None and claims.get("email_verified") is True,
                           _text(claims.get("preferred_username")) or _local_part(email), _text(claims.get("name")))


def _discord_profile(name: str, data: dict[str, Any]) -> ExternalProfile:
    email = _email(data.get("email"))
    return ExternalProfile(name, _subject(data.get("id")), email, email is not None and data.get("verified") is True,
                           _text(data.get("username")), _text(data.get("global_name")))


def _facebook_profile(name: str, data: dict[str, Any]) -> ExternalProfile:
    # The Graph API says nothing about verification: the e-mail counts as unverified (never auto-links).
    email = _email(data.get("email"))
    return ExternalProfile(name, _subject(data.get("id")), email, False, _local_part(email), _text(data.get("name")))


PROFILES: dict[str, Callable[[str, dict[str, Any]], ExternalProfile]] = {
    "oidc": _oidc_profile, "discord": _discord_profile, "facebook": _facebook_profile,
}


def providers() -> dict[str, Provider]:
    """The enabled providers: the built-in table, the stage's overrides, and only those with credentials."""
    settings = get_settings()
    table = {name: dict(entry) for name, entry in BUILT_IN.items()}
    for name, override in json.loads(settings.oauth_providers or "{}").items():
        table.setdefault(name, {}).update(override)
    clients = settings.oauth_client_credentials()
    enabled = {}
    for name, entry in table.items():
        creds = clients.get(name) or {}
        if not (creds.get("client_id") and creds.get("client_secret")):
            continue
        fields = {k: v for k, v in entry.items() if k in Provider.__dataclass_fields__}
        fields["issuers"] = tuple(fields.get("issuers", ()))
        try:
            provider = Provider(name=name, client_id=creds["client_id"], client_secret=creds["client_secret"],
                                **fields)
        except TypeError as exc:  # a required field missing from the stage's table
            logger.error("oauth provider misconfigured", extra={"provider": name, "error": str(exc)})
            continue
        usable = provider.profile in PROFILES and (
            (provider.protocol == "oidc" and provider.jwks_uri and provider.issuers)
            or (provider.protocol == "oauth2" and provider.userinfo_url))
        if not usable:
            logger.error("oauth provider misconfigured", extra={"provider": name, "error": "incomplete entry"})
            continue
        enabled[name] = provider
    return enabled


def get_provider(name: str) -> Provider:
    provider = providers().get(name)
    if provider is None:
        raise NotFoundError("no sign-in provider called {name} is enabled", code="unknown_provider",
                            params={"name": repr(name)})
    return provider


_ssl_context: Any = None


def ssl_context() -> Any:
    """One TLS context per container: building one (loading the CA bundle) costs ~70 ms, per client."""
    global _ssl_context
    if _ssl_context is None:
        import httpx

        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


def _client(provider: Provider, redirect_uri: str) -> Any:
    with warnings.catch_warnings():  # Authlib 1.9 prefers httpx2; httpx (already in the layer) still works
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import OAuth2Client

    # Every call to the provider is bounded by OAUTH_HTTP_TIMEOUT_S and the invocation's time left.
    return OAuth2Client(client_id=provider.client_id, client_secret=provider.client_secret,
                        scope=provider.scope, redirect_uri=redirect_uri, code_challenge_method="S256",
                        token_endpoint_auth_method=provider.token_auth,
                        timeout=get_settings().oauth_http_timeout_s, verify=ssl_context(),
                        event_hooks={"request": [clamp_httpx_request], "response": []})


def state_key(state: str) -> str:
    return STATE_PREFIX + hashlib.sha256(state.encode()).hexdigest()


def allowed_redirect_uri(redirect_uri: str | None) -> str:
    """The redirect URI if it is exactly on the allow-list (the first entry when none was given)."""
    allowed = get_settings().redirect_uris
    if redirect_uri is None and allowed:
        return allowed[0]
    if redirect_uri not in allowed:
        raise ValidationFailedError("redirect_uri is not on this stage's allow-list", code="redirect_uri_not_allowed",
                                    details=[{"field": "query.redirect_uri", "message": N_("not allowed"),
                                              "type": "redirect_uri_not_allowed"}])
    return redirect_uri


def start(name: str, redirect_uri: str | None, user_id: uuid.UUID | None) -> tuple[str, str, int]:
    """(authorize URL, state, lifetime in seconds) for a new flow; the secrets stay in Redis."""
    provider = get_provider(name)
    redirect_uri = allowed_redirect_uri(redirect_uri)
    ttl = get_settings().oauth_state_ttl_s
    state, verifier, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(64), secrets.token_urlsafe(32)
    extra = {"nonce": nonce} if provider.protocol == "oidc" else {}
    with _client(provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(provider.authorize_url, state=state, code_verifier=verifier,
                                                 **extra)
    record = {"provider": name, "verifier": verifier, "nonce": nonce, "redirect_uri": redirect_uri,
              "user_id": str(user_id) if user_id else None}
    get_redis().set(state_key(state), json.dumps(record), ex=ttl)
    return url, state, ttl


def redeem_state(name: str, state: str) -> FlowState:
    """The flow ``state`` started, consumed; OAuthFailedError when unknown, expired, used, or another provider's."""
    value = get_redis().getdel(state_key(state))
    if not value:
        raise OAuthFailedError("this sign-in link is unknown, expired or already used; start again",
                               code="invalid_state")
    record = json.loads(value)
    if record["provider"] != name:
        raise OAuthFailedError("this sign-in was started with another provider; start again", code="invalid_state")
    user_id = uuid.UUID(record["user_id"]) if record["user_id"] else None
    return FlowState(name, record["verifier"], record["nonce"], record["redirect_uri"], user_id)


def complete(name: str, code: str, state: str) -> tuple[ExternalProfile, FlowState]:
    """Redeem ``state``, exchange ``code`` (with the PKCE verifier) and prove who signed in."""
    provider = get_provider(name)
    flow = redeem_state(name, state)
    import httpx
    from authlib.integrations.base_client import OAuthError

    try:
        with _client(provider, flow.redirect_uri) as client:
            token = client.fetch_token(provider.token_url, code=code, code_verifier=flow.verifier)
            if provider.protocol == "oidc":
                claims = verify_id_token(provider, token.get("id_token"), flow.nonce)
                return PROFILES[provider.profile](name, claims), flow
            response = client.get(provider.userinfo_url)
            response.raise_for_status()
            data = response.json()
    except OAuthError as exc:
        logger.info("oauth code exchange refused", extra={"provider": name, "error": exc.error})
        raise OAuthFailedError("the provider refused the sign-in code; start again", code="code_rejected") from exc
    except httpx.HTTPStatusError as exc:
        raise OAuthFailedError("the provider refused the sign-in", code="code_rejected") from exc
    except (httpx.HTTPError, ValueError) as exc:
        logger.warning("oauth provider unreachable", extra={"provider": name, "error": type(exc).__name__})
        raise ServiceUnavailableError("{name} could not be reached; try again shortly", params={"name": name}) from exc
    if not isinstance(data, dict):
        raise OAuthFailedError("the provider did not say who signed in", code="code_rejected")
    return PROFILES[provider.profile](name, data), flow


# --- ID tokens -------------------------------------------------------------------------------------

_jwks: dict[str, tuple[float, dict]] = {}


def _reset() -> None:
    global _ssl_context
    _jwks.clear()
    _ssl_context = None


registry.register("oauth", _reset)


def _key_set(provider: Provider, kid: str | None) -> Any:
    """The provider's JWKS, cached an hour; refetched (at most once a minute) for a kid it lacks."""
    import httpx
    from joserfc.jwk import KeySet

    uri = provider.jwks_uri or ""
    cached = _jwks.get(uri)
    now = time.monotonic()
    known = cached and (kid is None or any(key.get("kid") == kid for key in cached[1].get("keys", [])))
    if cached is None or now - cached[0] > JWKS_MAX_AGE_S or (not known and now - cached[0] > JWKS_REFETCH_AFTER_S):
        try:
            response = httpx.get(uri, timeout=clamp(get_settings().oauth_http_timeout_s), verify=ssl_context())
            response.raise_for_status()
            cached = (now, response.json())
        except (httpx.HTTPError, ValueError) as exc:
            if cached is None:
                raise ServiceUnavailableError("the signing keys of {name} could not be fetched",
                                              params={"name": provider.name}) from exc
        _jwks[uri] = cached
    return KeySet.import_key_set(cached[1])


def verify_id_token(provider: Provider, id_token: Any, nonce: str) -> dict[str, Any]:
    """The claims of a valid ID token for this client and this flow; OAuthFailedError otherwise."""
    from joserfc import jws, jwt
    from joserfc.errors import JoseError

    invalid = OAuthFailedError("the provider's ID token did not verify", code="invalid_id_token")
    if not isinstance(id_token, str) or not id_token:
        raise invalid
    try:
        header = jws.extract_compact(id_token.encode()).headers()
        if header.get("alg") not in ID_TOKEN_ALGORITHMS:
            raise invalid
        token = jwt.decode(id_token, _key_set(provider, header.get("kid")), algorithms=ID_TOKEN_ALGORITHMS)
        claims = token.claims
        jwt.JWTClaimsRegistry(
            leeway=ID_TOKEN_LEEWAY_S,
            iss={"essential": True, "values": list(provider.issuers)},
            aud={"essential": True, "value": provider.client_id},
            exp={"essential": True}, iat={"essential": True}, sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != provider.client_id:
            raise invalid
        if not secrets.compare_digest(str(claims["nonce"]), nonce):
            raise invalid
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        logger.info("id token refused", extra={"provider": provider.name, "error": type(exc).__name__})
        raise invalid from exc
    return claims
