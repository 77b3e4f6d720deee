"""Sign-in with the local OpenID provider as a browser does it (issue 16).

The provider (``local.oidc_provider``, started by the session's ``LocalStack``) keeps its users in
memory: ``set_user`` gives a subject its claims. ``authorize`` follows the authorize URL the API
handed out: it loads the provider's page, submits its form for a subject, and reads the redirect to
the frontend's callback URL (the ``code`` and ``state`` a SPA would post to the API).
"""

from __future__ import annotations

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
