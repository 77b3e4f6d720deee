"""CORS: which origins, methods and headers browsers may use. In AWS, API Gateway answers preflights
from ``template.yaml``'s ``CorsConfiguration``; the app applies the same rules when it is reached
directly (the local gateway, tests). ``tests/shared/http/test_cors.py`` proves the two agree.
"""

from __future__ import annotations

from typing import Any

OPTIONS: dict[str, Any] = {
    "allow_credentials": True,
    "allow_methods": ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
    "allow_headers": ["authorization", "content-type", "if-none-match", "idempotency-key", "x-connection-id",
                      "if-match", "if-unmodified-since"],  # conditional writes (issue 13)
    "expose_headers": ["etag", "x-request-id", "x-sync-version", "retry-after", "ratelimit-limit",
                       "ratelimit-remaining", "ratelimit-reset", "last-modified", "idempotent-replayed"],
    "max_age": 600,
}
