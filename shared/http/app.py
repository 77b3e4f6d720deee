"""``api_router()`` and ``create_app(router)``: the one way a function builds its FastAPI app.

It gives every function the same behaviour at the edges: the ``/api/v1`` prefix, one JSON error
envelope for every failure (``shared.http.errors``), and ``shared.http.edge.EdgeMiddleware`` (request
id, security headers, CORS, body gates, structured logs).

Routers carry the full ``/api/v1/...`` prefix from the start and the app takes their routes as they
are, instead of ``include_router``: FastAPI builds an included router's routes a second time, lazily,
on the first request (~15 ms of every cold start for six or seven routes); routes built once at import are
also what a SnapStart snapshot keeps.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.core.errors import AppError
from shared.core.settings import get_settings
from shared.http import errors
from shared.http.edge import EdgeMiddleware
from shared.http.idempotency import IdempotencyMiddleware

API_PREFIX = "/api/v1"


def api_router(prefix: str = "", *, tags: list[str] | None = None) -> APIRouter:
    """A function's router: its paths live under ``/api/v1`` and document the error envelope."""
    return APIRouter(prefix=f"{API_PREFIX}{prefix}", tags=list(tags or []), responses=errors.ERROR_RESPONSES)


def create_app(*routers: APIRouter, title: str = "Atribuo API", form_bodies: bool = False,
               signed_in: bool = True) -> FastAPI:
    """Build a function's app from its ``api_router()`` router(s).

    ``form_bodies`` lets ``application/x-www-form-urlencoded`` bodies through the edge gate (else 415):
    only for the digest's RFC 8058 one-click unsubscribe, which mail clients POST as a form.
    ``signed_in=False`` is for a function no route of which takes a bearer token (the digest's): no
    Idempotency-Key replay store, which verifies tokens and so would need the signing keys' grant.
    """
    routes = [route for router in routers for route in router.routes]
    outside = [path for route in routes if not (path := getattr(route, "path", "")).startswith(API_PREFIX)]
    if outside:
        raise ValueError(f"routes outside {API_PREFIX} (build routers with api_router()): {outside}")
    settings = get_settings()
    # FastAPI's native OpenTelemetry is off: traces, logs and metrics go through Powertools/X-Ray.
    app = FastAPI(title=title, version=settings.app_version, docs_url=None, redoc_url=None,
                  telemetry={"tracing": False, "metrics": False, "logs": False}, routes=routes)
    app.add_exception_handler(AppError, errors.app_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(StarletteHTTPException, errors.http_error)
    if signed_in:
        app.add_middleware(IdempotencyMiddleware)  # inside the edge: its headers and gates apply to replays too
    app.add_middleware(EdgeMiddleware, max_body=settings.max_body_bytes, origins=settings.origins,
                       form_bodies=form_bodies)
    from shared.core.coldstart import ready  # lazily: importing it pauses the GC, which ready() resumes

    ready()
    return app
