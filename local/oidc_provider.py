"""The local sign-in provider for ``make dev`` and the tests: a real OpenID Connect provider from pip.

``oidc-provider-mock`` (an OpenID provider built on Authlib's server: discovery, authorize form, token
endpoint, RS256 ID tokens, JWKS, userinfo) plays "google". Its users are set with
``PUT /users/{sub}`` and a JSON object of claims (``email``, ``email_verified``, ``preferred_username``,
``name``); the authorize page is a form where a browser posts ``sub`` and is redirected back with a code.

Two small additions on the same server, because no package does them:

- **PKCE (RFC 7636).** 0.3.x, the last release that runs on Python 3.11, accepts any ``code_verifier``.
  Google, Discord and Facebook refuse a wrong one, so this layer does too: it records the
  ``code_challenge`` of each code the authorize form issues and refuses a token request whose
  verifier does not hash to it (Authlib's ``create_s256_code_challenge``).
- **Discord- and Facebook-shaped user endpoints.** The OAuth 2.0-only providers sign in through the
  same authorize/token endpoints (any client id works); ``/discord/users/@me`` and ``/facebook/me``
  answer with the signed-in user's claims in the shapes those providers' APIs use.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

# One user the authorize form offers as a button, so `make dev` signs in with one click.
DEMO_USER = {"sub": "demo-player", "claims": {"email": "demo-player@example.com", "email_verified": True,
                                              "preferred_username": "demo_player", "name": "Demo Player"}}


def create_app() -> Any:
    """The provider as a WSGI app (Flask)."""
    import flask
    import oidc_provider_mock
    from authlib.integrations.flask_oauth2 import current_token
    from authlib.oauth2.rfc7636 import create_s256_code_challenge
    from oidc_provider_mock._app import require_oauth  # the provider's own bearer-token check

    app = oidc_provider_mock.app(require_nonce=True, user_claims=[oidc_provider_mock.User(**DEMO_USER)])
    challenges: dict[str, tuple[str, str]] = {}
    lock = threading.Lock()

    @app.after_request
    def remember_challenge(response: flask.Response) -> flask.Response:
        if flask.request.endpoint == "oidc-provider-mock.authorize" and response.status_code == 302:
            code = parse_qs(urlsplit(response.location or "").query).get("code", [None])[0]
            challenge = flask.request.args.get("code_challenge")
            if code and challenge:
                with lock:
                    challenges[code] = (challenge, flask.request.args.get("code_challenge_method", "plain"))
        return response

    @app.before_request
    def check_verifier() -> Any:
        if flask.request.endpoint != "oidc-provider-mock.issue_token":
            return None
        if flask.request.form.get("grant_type") != "authorization_code":
            return None
        with lock:
            expected = challenges.pop(flask.request.form.get("code", ""), None)
        if expected is None:
            return None  # no PKCE on this code: the provider's own checks apply
        verifier = flask.request.form.get("code_verifier") or ""
        challenge, method = expected
        computed = create_s256_code_challenge(verifier) if method == "S256" else verifier
        if not verifier or computed != challenge:
            return flask.jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
        return None

    def claims() -> dict[str, Any]:
        user = current_token.get_user()
        return {**user.claims, "sub": user.sub}

    @app.get("/discord/users/@me")
    @require_oauth()
    def discord_me() -> Any:
        """Discord's GET /users/@me: ``verified`` says whether the e-mail was confirmed."""
        c = claims()
        return flask.jsonify(id=c["sub"], username=c.get("preferred_username") or c.get("name"),
                             global_name=c.get("name"), email=c.get("email"),
                             verified=bool(c.get("email_verified")), avatar=None)

    @app.get("/facebook/me")
    @require_oauth()
    def facebook_me() -> Any:
        """The Graph API's GET /me?fields=id,name,email (Facebook states no e-mail verification)."""
        c = claims()
        return flask.jsonify(id=c["sub"], name=c.get("name"), email=c.get("email"))

    return app


def provider_settings(base_url: str) -> dict[str, dict[str, str]]:
    """The ``OAUTH_PROVIDERS`` overrides that point google, discord and facebook at this provider."""
    return {
        "google": {"issuers": [base_url], "authorize_url": f"{base_url}/oauth2/authorize",
                   "token_url": f"{base_url}/oauth2/token", "jwks_uri": f"{base_url}/jwks"},
        "discord": {"authorize_url": f"{base_url}/oauth2/authorize", "token_url": f"{base_url}/oauth2/token",
                    "userinfo_url": f"{base_url}/discord/users/@me"},
        "facebook": {"authorize_url": f"{base_url}/oauth2/authorize", "token_url": f"{base_url}/oauth2/token",
                     "userinfo_url": f"{base_url}/facebook/me"},
    }


LOCAL_CLIENTS = {name: {"client_id": f"atribuo-local-{name}", "client_secret": f"local-{name}-client-secret"}
                 for name in ("google", "discord", "facebook")}
