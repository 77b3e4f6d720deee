"""The typed error hierarchy. Raise these anywhere; ``shared.http.app`` maps them to one JSON envelope."""

from __future__ import annotations

from typing import Any, Literal, get_args

# Every ``code`` an error envelope can carry: the published OpenAPI lists exactly these as an enum, so
# a generated client can switch on them. A new code goes here too (tests/local/test_openapi_contract.py
# reads every code the HTTP code raises and fails when one is missing, or listed but never raised).
ErrorCode = Literal[
    "already_exists", "bad_request", "cache_unavailable", "conflict", "forbidden", "http_error",
    "idempotency_in_flight", "idempotency_key_reused", "internal_error", "invalid_credentials",
    "invalid_grant", "invalid_json", "invalid_token", "invalid_upload", "invalid_value", "method_not_allowed",
    "not_found", "nul_character", "outcome_unknown", "payload_too_large", "precondition_failed",
    "rate_limited", "service_unavailable", "session_revoked", "unauthorized", "unsupported_media_type",
    "upload_changed", "validation_error", "version_ahead",
]
ERROR_CODES: tuple[str, ...] = get_args(ErrorCode)


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
