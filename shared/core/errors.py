"""The typed error hierarchy. Raise these anywhere; ``shared.http.app`` maps them to one JSON envelope."""

from __future__ import annotations

from typing import Any, Literal, get_args

# Every ``code`` an error envelope can carry: the published OpenAPI lists exactly these as an enum, so
# a generated client can switch on them. A new code goes here too (tests/local/test_openapi_contract.py
# reads every code the HTTP code raises and fails when one is missing, or listed but never raised).
ErrorCode = Literal[
    "account_exists", "account_not_empty", "already_exists", "already_verified", "bad_request",
    "cache_unavailable", "code_rejected", "conflict", "email_required", "email_suppressed", "forbidden",
    "http_error", "idempotency_in_flight", "idempotency_key_reused", "identity_in_use", "internal_error",
    "invalid_credentials", "invalid_grant", "invalid_id_token", "invalid_json", "invalid_state",
    "invalid_token", "invalid_upload", "invalid_value", "last_sign_in_method", "link_user_mismatch",
    "mail_unavailable", "method_not_allowed", "not_found", "nul_character", "oauth_failed", "outcome_unknown",
    "password_not_set", "payload_too_large", "precondition_failed", "rate_limited",
    "redirect_uri_not_allowed", "service_unavailable", "session_revoked", "unauthorized", "unchanged",
    "unknown_provider", "unsupported_media_type", "upload_changed", "username_unavailable",
    "validation_error", "version_ahead", "weak_password",
    # issue 15, accounts (h-acct): step-up before erasing or moving an account
    "reauthentication_required",
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


# Sign-in with an external provider (issue 16).
class OAuthFailedError(BadRequestError):
    """The provider round trip did not prove who the caller is: an unknown, expired or replayed
    ``state``, a code the provider refused (wrong PKCE verifier, used code), or an ID token that failed
    verification (signature, ``alg``, ``iss``, ``aud``, ``exp``, ``nonce``). The code says which."""

    code = "oauth_failed"


class UsernameUnavailableError(ConflictError):
    """A first sign-in whose provider username is taken or invalid: pick one and post it with
    ``details.signup_token`` to /auth/oauth/signup."""

    code = "username_unavailable"


class PasswordNotSetError(ConflictError):
    """The account signs in only through external providers: it has no password to check or change."""

    code = "password_not_set"


class IdempotencyKeyReusedError(AppError):
    """The same ``Idempotency-Key`` was sent with a different request (issue 13)."""

    status_code, code = 422, "idempotency_key_reused"


class IdempotencyInFlightError(AppError):
    """A retry arrived while the first request with its ``Idempotency-Key`` still runs (issue 13)."""

    status_code, code = 409, "idempotency_in_flight"


class MailUnavailableError(ServiceUnavailableError):
    """SES (or the way to it) failed; the mail was not sent (issue 15)."""

    code = "mail_unavailable"


class ReauthenticationRequiredError(ForbiddenError):
    """A route that can take the account away (DELETE /me, POST /me/email) was called without the
    password and with a token not minted by a recent sign-in (issue 15: ``shared.identity.reauth``)."""

    code = "reauthentication_required"


class InvalidTokenError(BadRequestError):
    """A mailed link's token that is unknown, used, expired or for an address no longer the user's."""

    code = "invalid_token"
