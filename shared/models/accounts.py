"""Accounts and sign-in on the wire: registration, login, refresh and password bodies, token pairs.

Bodies forbid unknown fields, so a client cannot slip ``id``, ``password_hash`` or any flag into a
write (mass assignment). Token responses use OAuth 2.0 names (RFC 6749 section 5.1).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
)

from shared.models.avatars import AvatarUploadPublic
from shared.models.categories import Category
from shared.models.common import PastTimestamp, TimestampText, UuidText, lower, no_nul
from shared.models.profiles import Bio, DisplayName, ProfilePublic
from shared.models.skills import Description, Level, Name, Note, TargetDate
from shared.models.timezones import TimeZoneName

# Lower-cased *before* the pattern applies, so "Alice" registers as "alice" (pydantic checks the
# pattern before its own to_lower).
Username = Annotated[str, BeforeValidator(lower), StringConstraints(pattern=r"^[a-z0-9_]{3,30}$")]
NewPassword = Annotated[str, Field(min_length=8, max_length=128)]
# A presented password is only length-capped (so argon2 is never fed a megabyte); rules apply on creation.
AnyPassword = Annotated[str, Field(min_length=1, max_length=128)]
REAUTH = ("The current password. May be left out when the access token comes from a sign-in (password, "
          "provider or reset link; not a refresh) of the last 5 minutes: 403 reauthentication_required otherwise")
RefreshToken = Annotated[str, Field(min_length=16, max_length=256)]
MailToken = Annotated[str, Field(min_length=16, max_length=256, pattern=r"^[A-Za-z0-9_-]+$")]
DeviceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                       AfterValidator(no_nul)]


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
    device_name: DeviceName | None = Field(default=None, description="How GET /me/sessions names this device "
                                                                      "(default: from the User-Agent)")


class RefreshCreate(_Body):
    """A refresh token presented to /refresh or /logout."""

    refresh_token: RefreshToken


class EmailVerifyCreate(_Body):
    """The token from a verification mail's link."""

    token: MailToken


class PasswordForgotCreate(_Body):
    email: Annotated[EmailStr, Field(max_length=320)]


class PasswordResetCreate(_Body):
    """The token from a reset mail's link and the new password (the password policy applies)."""

    token: MailToken
    new_password: NewPassword


class AcceptedPublic(BaseModel):
    """202: the request was taken; what follows happens by mail."""

    status: Literal["accepted"] = "accepted"
    message: str


class PasswordUpdate(_Body):
    current_password: AnyPassword
    new_password: NewPassword


class TokenPublic(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: int = Field(description="Seconds until the access token expires")


class SignedInPublic(TokenPublic):
    """Sign-in's answer: the user and a token pair."""

    user: ProfilePublic  # the same model as GET /me/profile: one user, one shape


class RegisteredPublic(SignedInPublic):
    """Registration's answer: the new user and their first token pair."""


class SessionPublic(BaseModel):
    """One signed-in device (a refresh-token family)."""

    id: UuidText
    device_name: str | None = Field(description="From the User-Agent, or the label sent at sign-in")
    ip_prefix: str | None = Field(description="Where it signed in, coarsely (/24 IPv4, /48 IPv6)")
    created_at: TimestampText
    last_used_at: TimestampText
    current: bool = Field(description="True for the device making this request (the access token's sid)")


class SessionsPublic(BaseModel):
    sessions: list[SessionPublic]


SecurityEventKind = Literal["sign_in", "sign_in_failed", "password_changed", "password_reset",
                            "password_reset_requested", "email_verified", "session_revoked", "sessions_revoked",
                            "email_changed", "username_changed"]


class SecurityEventPublic(BaseModel):
    """One entry of the security log."""

    id: int
    kind: SecurityEventKind
    session_id: UuidText | None = Field(description="The sign-in it concerns (new, revoked, …), when there is one")
    ip_prefix: str | None
    device_name: str | None
    created_at: TimestampText


class SecurityEventsPublic(BaseModel):
    events: list[SecurityEventPublic]
    next_before: int | None = Field(description="Pass as ?before= for older entries; null at the end")


class AccountDelete(_Body):
    """``DELETE /me``: the current password — or nothing, with an access token from a sign-in of the last
    few minutes (an account without a password signs in again with its provider) — so a stolen access
    token alone cannot erase an account."""

    password: AnyPassword | None = Field(default=None, description=REAUTH)


class EmailChangeCreate(_Body):
    """``POST /me/email``: the password (or a fresh sign-in, as for ``DELETE /me``), and the new address
    (it switches once its link is used)."""

    password: AnyPassword | None = Field(default=None, description=REAUTH)
    new_email: Annotated[EmailStr, Field(max_length=320)]


class AccountExport(BaseModel):
    """``GET /me/export``: everything the account holds, as one JSON document (served as a stream)."""

    format: Literal["atribuo-export"]
    version: int
    exported_at: TimestampText
    profile: dict[str, Any] = Field(description="As GET /me/profile serves it")
    settings: dict[str, Any] = Field(description="privacy_settings, timezone, digest_opt_out, locale")
    skills: list[dict[str, Any]]
    history: list[dict[str, Any]] = Field(description="Every level change, superseded ones included")
    conflicts: list[dict[str, Any]]
    sessions: list[dict[str, Any]]


class UsernameUpdate(_Body):
    """``PUT /me/username``: the new username (lower-cased; the old one stays reserved for a while)."""

    username: Username


class _Imported(BaseModel):
    # An export carries more than an import reads (timestamps, ids of other rows): extra keys are ignored.
    model_config = ConfigDict(extra="ignore")


class ImportedGoal(_Imported):
    target_level: Annotated[int, Field(ge=2, le=10, strict=True)]
    target_date: TargetDate
    reached_at: PastTimestamp | None = None


class ImportedSkill(_Imported):
    id: uuid.UUID
    name: Name
    category: Category
    level: Level
    description: Description | None = None
    goal: ImportedGoal | None = None


class ImportedLevel(_Imported):
    skill_id: uuid.UUID
    previous_level: Level | None = None
    new_level: Level
    note: Note | None = None
    superseded: bool = False
    created_at: PastTimestamp | None = Field(default=None, description="Kept: the history keeps its dates")


class ImportedConflict(_Imported):
    """A sync conflict of the old account: imported resolved and acknowledged (its devices are gone)."""

    entity: Literal["skill", "profile"]
    entity_id: uuid.UUID
    op_id: Annotated[str, Field(max_length=200)] | None = None
    source: Literal["batch", "rest"] = "batch"
    resolution: Literal["incoming_won", "stored_won"]
    winner: dict[str, Any] | None = None
    loser: dict[str, Any] | None = None
    created_at: PastTimestamp | None = None
    acked_at: PastTimestamp | None = None


class ImportedSettings(_Imported):
    privacy_settings: dict[str, Any] | None = None
    timezone: TimeZoneName | None = None
    digest_opt_out: bool | None = None
    locale: Literal["en", "id"] | None = None


class ImportedProfile(_Imported):
    """What of the old profile comes along: how the user presents themselves (not the username, the
    e-mail or the avatar file, which belong to the old account)."""

    display_name: DisplayName | None = None
    bio: Bio | None = None


class AccountImport(_Imported):
    """``POST /me/import``: a ``GET /me/export`` document. Skills, the whole level history (superseded
    levels included, with their dates), settings, and conflicts (as acknowledged records) come in; the
    profile's identity (username, e-mail) and the sessions do not: sessions are the old account's signed-in
    devices, and a device signs in to the new account itself."""

    format: Literal["atribuo-export"]
    version: Literal[1]
    profile: ImportedProfile = Field(default_factory=ImportedProfile)
    settings: ImportedSettings = Field(default_factory=ImportedSettings)
    skills: list[ImportedSkill] = Field(max_length=1000)
    history: list[ImportedLevel] = Field(default_factory=list, max_length=20000)
    conflicts: list[ImportedConflict] = Field(default_factory=list, max_length=20000)


class ImportPublic(BaseModel):
    imported: bool = Field(description="False: this document was already imported (nothing changed)")
    skills: int
    levels: int



# --- through the bucket (issue 15): exports and imports larger than an API Gateway message ---------

class ExportCreate(_Body):
    """``POST /me/export``: which document to put in the bucket."""

    format: Literal["json", "history_csv"] = Field(default="json", description="json: GET /me/export's "
                                                   "document; history_csv: GET /me/export/history.csv's")


class ExportLinkPublic(BaseModel):
    """Where to download an export from: a presigned GET on the bucket, valid ``expires_in`` seconds
    (the object itself is deleted a day later)."""

    url: str
    expires_in: int
    bytes: int
    format: Literal["json", "history_csv"]


class ImportUploadPublic(AvatarUploadPublic):
    """How to upload an export file for ``POST /me/import/uploaded``: exactly like an avatar upload
    (the same presigned POST or PUT), plus the size cap."""

    max_bytes: int


class ImportUploadedCreate(_Body):
    """``POST /me/import/uploaded``: the ``key`` ``POST /me/import/upload`` gave."""

    key: str = Field(min_length=1, max_length=200)
