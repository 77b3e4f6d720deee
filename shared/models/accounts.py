"""Accounts and sign-in on the wire: registration, login, refresh and password bodies, token pairs.

Bodies forbid unknown fields, so a client cannot slip ``id``, ``password_hash`` or any flag into a
write (mass assignment). Token responses use OAuth 2.0 names (RFC 6749 section 5.1).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StringConstraints

from shared.models.common import lower, no_nul
from shared.models.profiles import ProfilePublic

# Lower-cased *before* the pattern applies, so "Alice" registers as "alice" (pydantic checks the
# pattern before its own to_lower).
Username = Annotated[str, BeforeValidator(lower), StringConstraints(pattern=r"^[a-z0-9_]{3,30}$")]
NewPassword = Annotated[str, Field(min_length=8, max_length=128)]
# A presented password is only length-capped (so argon2 is never fed a megabyte); rules apply on creation.
AnyPassword = Annotated[str, Field(min_length=1, max_length=128)]
RefreshToken = Annotated[str, Field(min_length=16, max_length=256)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_Body):
    """Registration. The username is stored lower-case: "Alice" and "alice" are one account."""

    username: Username
    email: Annotated[EmailStr, Field(max_length=320)]
    password: NewPassword
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                            AfterValidator(no_nul)] | None = None


class LoginCreate(_Body):
    """Sign-in: ``username`` may be the username or the e-mail address."""

    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320),
                        AfterValidator(no_nul)]
    password: AnyPassword


class RefreshCreate(_Body):
    """A refresh token presented to /refresh or /logout."""

    refresh_token: RefreshToken


class PasswordUpdate(_Body):
    current_password: AnyPassword
    new_password: NewPassword


class TokenPublic(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: int = Field(description="Seconds until the access token expires")


class RegisteredPublic(TokenPublic):
    """Registration's answer: the new user and their first token pair."""

    user: ProfilePublic  # the same model as GET /me/profile: one user, one shape


class SignedInPublic(RegisteredPublic):
    """Sign-in's answer, shaped like registration's: the user and a new token pair (issue 12)."""
