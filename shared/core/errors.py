"""The typed error hierarchy. Raise these anywhere; ``shared.http.app`` maps them to one JSON envelope."""

from __future__ import annotations

from typing import Any, Literal, get_args

# Every ``code`` an error envelope can carry: the published OpenAPI lists exactly these as an enum, so
# a generated client can switch on them. A new code goes here too (tests/local/test_openapi_contract.py
# reads every code the HTTP code raises and fails when one is missing, or listed but never raised).
ErrorCode = Literal[
    "account_not_empty", "already_exists", "already_verified", "bad_request", "cache_unavailable", "conflict",
    "email_suppressed", "forbidden", "http_error", "idempotency_in_flight", "idempotency_key_reused",
    "internal_error", "invalid_credentials", "invalid_grant", "invalid_json", "invalid_token",
    "invalid_upload", "invalid_value", "mail_unavailable", "method_not_allowed", "not_found", "nul_character",
    "outcome_unknown", "payload_too_large", "precondition_failed", "rate_limited", "service_unavailable",
    "session_revoked", "unauthorized", "unchanged", "unsupported_media_type", "upload_changed",
    "validation_error", "version_ahead", "weak_password",
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


class WeakPasswordError(ValidationFailedError):
    """A new password the policy refuses (issue 15); ``field`` is the request field that carried it."""

    def __init__(self, reason: str, *, field: str = "body.password") -> None:
        super().__init__(f"{field.removeprefix('body.')} is not accepted: {reason}", code="weak_password",
                         details=[{"field": field, "message": reason, "type": "weak_password"}])


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


class MailUnavailableError(ServiceUnavailableError):
    """SES (or the way to it) failed; the mail was not sent (issue 15)."""

    code = "mail_unavailable"


class InvalidTokenError(BadRequestError):
    """A mailed link's token that is unknown, used, expired or for an address no longer the user's."""

    code = "invalid_token"
