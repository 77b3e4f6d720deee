"""Health function: is this stage able to serve? (GET /api/v1/health)"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import BaseModel

from shared.api import create_app
from shared.health import check_dependencies
from shared.settings import get_settings

router = APIRouter(prefix="/health", tags=["health"])


class HealthPublic(BaseModel):
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
    body = HealthPublic(
        status="ok" if ok else "degraded",
        timestamp=datetime.now(UTC),
        version=get_settings().app_version,
        **checks,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ok else 503,
                        headers={"cache-control": "no-store"})


app = create_app(router)
handler = Mangum(app, lifespan="off")
