"""Health function: is this stage able to serve? (GET /api/v1/health)"""

from __future__ import annotations

from datetime import UTC, datetime

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Response
from mangum import Mangum

from shared.core.observability import observed
from shared.core.settings import get_settings
from shared.http.app import api_router, create_app
from shared.http.responses import no_store_json
from shared.models.health import HealthPublic
from shared.ops.health import check_dependencies

router = api_router("/health", tags=["health"])
@router.get("", response_model=HealthPublic, operation_id="health.get", responses={503: {"model": HealthPublic}})
async def health() -> Response:
    """200 when Postgres and Redis both answer, 503 (never 500) naming what failed."""
    checks = check_dependencies()
    ok = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ok else "degraded", "timestamp": datetime.now(UTC).isoformat(),
            "version": get_settings().app_version, **checks}
    return no_store_json(body, status=200 if ok else 503)


app = create_app(router)
handler = observed(Mangum(app, lifespan="off"))  # ColdStart, and metrics flushed once per invocation
