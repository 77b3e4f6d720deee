"""Who is calling, by address: API Gateway's ``sourceIp``, or the viewer's address behind our CloudFront.

Behind the edge (template.yaml, ``EdgeDistribution``) API Gateway's ``requestContext.http.sourceIp``
(Mangum's ``scope["client"]``) is a CloudFront server, shared by everyone that edge location serves:
per-IP rate limits keyed on it would throttle strangers together. CloudFront sends the viewer's
address in ``CloudFront-Viewer-Address`` (``198.51.100.10:46532``, ``2001:db8::1:46532``), but anyone
can send that header straight to the API's execute-api URL. So it counts only when the request also
carries ``X-Origin-Verify`` with the stage's secret, which CloudFront adds to every request it sends
the API (an origin custom header: a viewer's own header of that name is overwritten) and nobody else
knows. Otherwise ``sourceIp`` stands, as before the edge existed.

``trust_viewer_address(scope)`` runs once per request in ``EdgeMiddleware``, rewrites
``scope["client"]`` and says whether the request came through the distribution; where the edge is
on (``EDGE_REQUIRED``), one that did not is refused (403), so nothing reaches the API past the WAF by
its execute-api URL; ``shared.http.auth.client_ip`` then reads it, the one place any code asks for
the caller's address. The proof header is removed from the scope either way, so no route, log line or
echoed header ever holds the secret. Never ``X-Forwarded-For``: CloudFront appends to whatever the
viewer sent, so its first entry is the viewer's to choose.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import MutableMapping
from typing import Any

from shared.core.observability import logger
from shared.core.settings import get_settings

ORIGIN_VERIFY = b"x-origin-verify"
VIEWER_ADDRESS = b"cloudfront-viewer-address"


def parse_viewer_address(value: str) -> str | None:
    """The address in ``CloudFront-Viewer-Address`` (``ip:port``; IPv6 without brackets, tolerated
    with), normalised (``2001:DB8:0::1`` and ``2001:db8::1`` are one caller; an IPv4-mapped IPv6
    address is its IPv4 address); None when it is not an address."""
    value = value.strip()
    if value.startswith("["):
        candidates = [value[1:].partition("]")[0]]
    else:  # CloudFront always appends the port; the whole value is the fallback for a bare address
        host, _, port = value.rpartition(":")
        candidates = [host, value] if port.isdigit() else [value]
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        mapped = getattr(address, "ipv4_mapped", None)
        return str(mapped or address)
    return None


def _verified(proof: str) -> bool | None:
    """Whether ``proof`` is one of the stage's origin-verify values (constant-time comparisons); None
    when the secret cannot be read (Secrets Manager unreachable): unknown, not "no"."""
    try:
        keys = get_settings().edge_origin_keys()
    except Exception as exc:
        logger.warning("edge origin secret unavailable", extra={"error": type(exc).__name__})
        return None
    supplied = proof.encode()
    return any(hmac.compare_digest(supplied, key.encode()) for key in keys)


def trust_viewer_address(scope: MutableMapping[str, Any]) -> bool | None:
    """Make ``scope["client"]`` the viewer's address when the request proves it came through our
    distribution, and drop the proof header in any case. Returns whether it came through (None:
    unknown, the secret unreadable); without a proof the caller is judged by ``sourceIp``."""
    headers = scope.get("headers") or []
    proof = next((value for key, value in headers if key.lower() == ORIGIN_VERIFY), None)
    if proof is None:
        return False
    scope["headers"] = [(key, value) for key, value in headers if key.lower() != ORIGIN_VERIFY]
    through = _verified(proof.decode("latin-1"))
    viewer = next((value for key, value in headers if key.lower() == VIEWER_ADDRESS), None)
    address = parse_viewer_address(viewer.decode("latin-1")) if through and viewer is not None else None
    if address is not None:
        scope["client"] = (address, 0)
    return through
