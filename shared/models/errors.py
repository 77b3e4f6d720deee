"""Response models shared by every function (the error envelope)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from shared.core.errors import ErrorCode


class ErrorBody(BaseModel):
    code: ErrorCode = Field(description="Stable and machine-readable: switch on this, never on the message")
    message: str = Field(description="For people; may change")
    details: Any = Field(default=None, description="Which fields failed (422), what conflicted (409), …")


class ErrorEnvelope(BaseModel):
    """Every error any function returns has exactly this shape."""

    error: ErrorBody
