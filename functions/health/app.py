"""Health function: is this stage able to serve? (GET /api/v1/health)"""

from __future__ import annotations

from datetime import UTC, datetime

import shared.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import BaseModel

from shared.api import api_router, create_app
from shared.health import check_dependencies
from shared.settings import get_settings

router = api_router("/health", tags=["health"])
NO_STORE = {"cache-control": "no-store"}


class HealthPublic(BaseModel):
    """The documented shape (the route builds the dict directly: no model round trip per request)."""

    status: str
    timestamp: datetime
    version: str
    database: str
    redis: str


@router.get("", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
async def health() -> JSONResponse:
    """200 when Postgres and Redis both answer, 503 (never 500) naming what failed."""
    checks = check_dependencies()
    ok = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ok else "degraded", "timestamp": datetime.now(UTC).isoformat(),
            "version": get_settings().app_version, **checks}
    return JSONResponse(body, status_code=200 if ok else 503, headers=NO_STORE)


app = create_app(router)
handler = Mangum(app, lifespan="off")
