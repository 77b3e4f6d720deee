"""CORS as API Gateway's HTTP API does it, read from ``template.yaml``'s ``CorsConfiguration``.

With a CORS configuration, API Gateway (not the function) answers every preflight — an ``OPTIONS``
carrying ``Origin`` and ``Access-Control-Request-Method`` — with ``204`` and no body, whether or not
an ``OPTIONS`` route exists; the allow headers are there only when the origin is one of
``AllowOrigins`` (a foreign origin gets a bare 204, so the browser refuses the call). On every other
response it ignores the CORS headers the integration returned and adds its own:
``Access-Control-Allow-Origin`` (the caller's origin, or ``*``), ``-Allow-Credentials`` and
``-Expose-Headers``, again only for an allowed origin.

``AllowOrigins`` is ``!Ref AllowedOrigins``: locally the parameter's value is the ``ALLOWED_ORIGINS``
environment variable (the one the functions read), else the parameter's ``Default``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from local.template import load_template

# Template parameter → the environment variable that overrides it locally (the deploy passes the
# same value to the functions under that name, see Globals.Environment).
PARAMETER_ENV = {"AllowedOrigins": "ALLOWED_ORIGINS"}


@dataclass(frozen=True)
class CorsConfig:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int | None = None

    def allows(self, origin: str | None) -> bool:
        return origin is not None and ("*" in self.allow_origins or origin in self.allow_origins)

    def _origin_value(self, origin: str) -> str:
        # A credentialed response may not say "*"; AWS refuses "*" with AllowCredentials anyway.
        return "*" if "*" in self.allow_origins and not self.allow_credentials else origin

    def preflight(self, origin: str | None) -> list[tuple[str, str]]:
        """The headers of the 204 that answers a preflight (none for a foreign origin)."""
        if not self.allows(origin):
            return []
        assert origin is not None
        headers = [("access-control-allow-origin", self._origin_value(origin))]
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        if self.allow_methods:
            headers.append(("access-control-allow-methods", ",".join(self.allow_methods)))
        if self.allow_headers:
            headers.append(("access-control-allow-headers", ",".join(self.allow_headers)))
        if self.max_age is not None:
            headers.append(("access-control-max-age", str(self.max_age)))
        return headers

    def actual(self, origin: str | None, headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """An integration's response headers as the client sees them: its CORS headers replaced by ours."""
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        if not self.allows(origin):
            return kept
        assert origin is not None
        kept.append(("access-control-allow-origin", self._origin_value(origin)))
        if self.allow_credentials:
            kept.append(("access-control-allow-credentials", "true"))
        if self.expose_headers:
            kept.append(("access-control-expose-headers", ",".join(self.expose_headers)))
        return kept


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """API Gateway's test: OPTIONS with both ``Origin`` and ``Access-Control-Request-Method``."""
    return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def _parameter(name: str) -> list[str]:
    env = PARAMETER_ENV.get(name)
    raw = os.environ.get(env) if env else None
    if raw is None:
        spec = load_template().get("Parameters", {}).get(name, {})
        raw = spec.get("Default", "")
    if isinstance(raw, list):
        return [str(v).strip() for v in raw]
    return [v.strip() for v in str(raw).split(",") if v.strip()]


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return tuple(_parameter(value["Ref"]))
    return tuple(str(v) for v in value or ())


def http_api_cors(template: Mapping[str, Any] | None = None) -> CorsConfig | None:
    """The HTTP API's ``CorsConfiguration`` with its parameters resolved (None when it has none)."""
    resources = (template or load_template())["Resources"]
    api = next((r for r in resources.values() if r["Type"] == "AWS::Serverless::HttpApi"), None)
    cors = ((api or {}).get("Properties") or {}).get("CorsConfiguration")
    if not cors:
        return None
    return CorsConfig(
        allow_origins=_strings(cors.get("AllowOrigins")),
        allow_methods=tuple(m.upper() for m in _strings(cors.get("AllowMethods"))),
        allow_headers=tuple(h.lower() for h in _strings(cors.get("AllowHeaders"))),
        expose_headers=tuple(h.lower() for h in _strings(cors.get("ExposeHeaders"))),
        allow_credentials=bool(cors.get("AllowCredentials", False)),
        max_age=int(cors["MaxAge"]) if cors.get("MaxAge") is not None else None,
    )
