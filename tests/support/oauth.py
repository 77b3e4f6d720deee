"""Sign-in with the local OpenID provider as a browser does it (issue 16).

The provider (``local.oidc_provider``, started by the session's ``LocalStack``) keeps its users in
memory: ``set_user`` gives a subject its claims. ``authorize`` follows the authorize URL the API
handed out: it loads the provider's page, submits its form for a subject, and reads the redirect to
the frontend's callback URL (the ``code`` and ``state`` a SPA would post to the API).
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from local.stack import LocalStack

REDIRECT_URI = "http://localhost:5173/auth/callback"  # the first entry of the default allow-list


def provider_url(stack: LocalStack) -> str:
    assert stack.oidc is not None, "the local OpenID provider is not running"
    return stack.oidc.url


def set_user(stack: LocalStack, claims: dict[str, Any], sub: str | None = None) -> str:
    """Give a (new, unique unless named) subject its claims at the provider; returns the subject."""
    sub = sub or f"user-{uuid.uuid4().hex[:12]}"
    response = httpx.put(f"{provider_url(stack)}/users/{quote(sub, safe='')}", json=claims)
    assert response.status_code == 204, response.text
    return sub


def authorize(authorization_url: str, sub: str) -> dict[str, str]:
    """The query of the provider's redirect back to the frontend, after ``sub`` signs in on its form."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        page = browser.get(authorization_url)
        assert page.status_code == 200 and '<form method="post"' in page.text, page.text[:500]
        # The form has no action: a browser posts it to the page's own URL, query string included.
        redirect = browser.post(authorization_url, data={"sub": sub})
    assert redirect.status_code == 302, redirect.text[:500]
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {key: values[0] for key, values in parse_qs(location.query).items()}


class TokenRewriter:
    """A token endpoint standing between the API and the provider that swaps the ID token in the
    provider's answer for ``rewrite(id_token)``: what a tampered path or a hostile provider would send.
    The code exchange itself still happens at the real provider (PKCE and all)."""

    def __init__(self, upstream: str, rewrite: Any) -> None:
        self.upstream, self.rewrite = upstream, rewrite

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {"content-type": environ.get("CONTENT_TYPE", "")}
        if environ.get("HTTP_AUTHORIZATION"):
            headers["authorization"] = environ["HTTP_AUTHORIZATION"]
        answer = httpx.post(self.upstream, content=body, headers=headers)
        data = answer.json()
        if "id_token" in data:
            data["id_token"] = self.rewrite(data["id_token"])
        start_response(f"{answer.status_code} -", [("content-type", "application/json")])
        return [json.dumps(data).encode()]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unverified(id_token: str) -> tuple[dict, dict]:
    """(header, claims) of a compact JWS, read without verifying it."""
    header, payload, _ = id_token.split(".")
    return (json.loads(base64.urlsafe_b64decode(header + "==")), json.loads(base64.urlsafe_b64decode(payload + "==")))


def resigned_with_another_key(id_token: str) -> str:
    """The same header (kid included) and claims, signed RS256 by a key that is not the provider's."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    header, claims = unverified(id_token)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": header["kid"]} if "kid" in header else None)


def unsigned(id_token: str) -> str:
    """The same claims with ``alg: none`` and no signature."""
    header, claims = unverified(id_token)
    return f"{_b64(json.dumps({**header, 'alg': 'none'}).encode())}.{_b64(json.dumps(claims).encode())}."
