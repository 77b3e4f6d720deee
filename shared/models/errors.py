"""Response models shared by every function (the error envelope)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    """Every error any function returns has exactly this shape."""

    error: ErrorBody
