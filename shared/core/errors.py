"""The typed error hierarchy. Raise these anywhere; ``shared.http.app`` maps them to one JSON envelope."""

from __future__ import annotations

from typing import Any, Literal, get_args

from shared.core.i18n import N_

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

# Issue 17: each code in a sentence, translated like every message (a new code is one line here and its
# Indonesian in shared/locale/id/LC_MESSAGES/atribuo.po; tests/shared/core/test_i18n.py checks both).
# The message of an answer that has no sentence of its own (Starlette's other HTTP errors).
CODE_MESSAGES: dict[str, str] = {
    "account_exists": N_("an account with this e-mail address already exists"),
    "account_not_empty": N_("the account already has data"),
    "already_exists": N_("it already exists"),
    "already_verified": N_("this address is already verified"),
    "bad_request": N_("the request is not valid"),
    "cache_unavailable": N_("the cache is unavailable, try again shortly"),
    "code_rejected": N_("the provider refused the sign-in"),
    "conflict": N_("the request conflicts with the current state"),
    "email_required": N_("an e-mail address is required"),
    "email_suppressed": N_("mail to this address bounced or was marked as spam; use another address"),
    "forbidden": N_("this is not allowed"),
    "http_error": N_("the request could not be handled"),
    "idempotency_in_flight": N_("the first request with this Idempotency-Key is still running"),
    "idempotency_key_reused": N_("this Idempotency-Key was used for a different request"),
    "identity_in_use": N_("this sign-in already belongs to another account"),
    "internal_error": N_("an unexpected error occurred; it has been logged"),
    "invalid_credentials": N_("the credentials are incorrect"),
    "invalid_grant": N_("invalid or expired refresh token"),
    "invalid_id_token": N_("the provider's ID token is not valid"),
    "invalid_json": N_("the request body is not valid JSON"),
    "invalid_state": N_("this sign-in link is unknown, expired or already used; start again"),
    "invalid_token": N_("this link is invalid, used or expired; ask for a new one"),
    "invalid_upload": N_("the upload was rejected"),
    "invalid_value": N_("a value in the request cannot be stored"),
    "last_sign_in_method": N_("this is the account's last way to sign in"),
    "link_user_mismatch": N_("linking must be finished by the account that started it"),
    "mail_unavailable": N_("mail cannot be sent right now, try again shortly"),
    "method_not_allowed": N_("method not allowed on this route"),
    "not_found": N_("not found"),
    "nul_character": N_("text must not contain NUL characters"),
    "oauth_failed": N_("the sign-in with the provider failed; start again"),
    "outcome_unknown": N_("the outcome is unknown; check before trying again"),
    "password_not_set": N_("this account has no password; it signs in through a provider"),
    "payload_too_large": N_("the request body is too large"),
    "precondition_failed": N_("the resource changed since you read it"),
    "rate_limited": N_("too many requests; retry later"),
    "redirect_uri_not_allowed": N_("redirect_uri is not on this stage's allow-list"),
    "service_unavailable": N_("a service is unavailable, try again shortly"),
    "session_revoked": N_("this sign-in was revoked; sign in again"),
    "unauthorized": N_("sign in first"),
    "unchanged": N_("nothing changed"),
    "unknown_provider": N_("no such sign-in provider"),
    "unsupported_media_type": N_("send the body as application/json"),
    "upload_changed": N_("the upload changed while it was being checked; upload again"),
    "username_unavailable": N_("choose another username"),
    "validation_error": N_("the input is not valid"),
    "version_ahead": N_("the version is ahead of the server's; fetch a snapshot"),
    "weak_password": N_("the password is too weak"),
    # issue 15, accounts (h-acct)
    "reauthentication_required": N_("confirm it is you: send your password or sign in again"),
}


class AppError(Exception):
    """An error that is the caller's to see: a status, a stable code and a human message.

    ``message`` is English and a literal (issue 17: it is the key of its translations, extracted by
    ``make messages``); what varies goes in ``params`` (``str.format`` names), filled in after
    translation. ``self.message`` is the English text; ``localized()`` the caller's language.
    """

    status_code = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.template = message
        self.params = dict(params or {})
        self.message = message.format(**self.params) if self.params else message
        super().__init__(self.message)
        self.details = details
        self.headers = headers or {}
        if code:
            self.code = code

    def localized(self, locale: str | None = None) -> tuple[str, Any]:
        """``(message, details)`` in ``locale`` (default: the current request's language)."""
        from shared.core import i18n

        return i18n.format_message(self.template, self.params, locale), i18n.localize_details(self.details, locale)


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
        super().__init__("{field} is not accepted: {reason}", code="weak_password",
                         params={"field": field.removeprefix("body."), "reason": reason},
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
