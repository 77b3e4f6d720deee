"""The typed error hierarchy. Raise these anywhere; ``shared.http.app`` maps them to one JSON envelope."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An error that is the caller's to see: a status, a stable code and a human message."""

    status_code = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}
        if code:
            self.code = code


class BadRequestError(AppError):
    status_code, code = 400, "bad_request"


class UnauthorizedError(AppError):
    status_code, code = 401, "unauthorized"


class ForbiddenError(AppError):
    status_code, code = 403, "forbidden"


class NotFoundError(AppError):
    status_code, code = 404, "not_found"


class ConflictError(AppError):
    status_code, code = 409, "conflict"


class PayloadTooLargeError(AppError):
    status_code, code = 413, "payload_too_large"


class UnsupportedMediaTypeError(AppError):
    status_code, code = 415, "unsupported_media_type"


class ValidationFailedError(AppError):
    status_code, code = 422, "validation_error"


class RateLimitedError(AppError):
    status_code, code = 429, "rate_limited"


class ServiceUnavailableError(AppError):
    status_code, code = 503, "service_unavailable"


class PreconditionFailedError(AppError):
    status_code, code = 412, "precondition_failed"


class SessionRevokedError(UnauthorizedError):
    """A write by a sign-in that was revoked (logout-all, password change, reuse): the access token
    still reads until it expires, but writes nothing (issue 13)."""

    code = "session_revoked"

    def __init__(self, message: str = "this sign-in was revoked; sign in again", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        super().__init__(message, **kwargs)


class IdempotencyKeyReusedError(AppError):
    """The same ``Idempotency-Key`` was sent with a different request (issue 13)."""

    status_code, code = 422, "idempotency_key_reused"


class IdempotencyInFlightError(AppError):
    """A retry arrived while the first request with its ``Idempotency-Key`` still runs (issue 13)."""

    status_code, code = 409, "idempotency_in_flight"
