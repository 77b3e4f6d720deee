"""Sign-in with an external provider on the wire (issue 16): start, callback, sign-up, identities."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared.models.accounts import Username
from shared.models.common import TimestampText, no_nul
from shared.models.profiles import ProfilePublic

# What providers send back: an opaque code and our own state (43 URL-safe characters), both bounded.
Opaque = Annotated[str, StringConstraints(min_length=1, max_length=2048), AfterValidator(no_nul)]
OurToken = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{43}$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OAuthStartPublic(BaseModel):
    """Where to send the browser. ``state`` is also in the URL; the SPA posts it back with the code."""

    authorization_url: str
    state: str
    expires_in: int = Field(description="Seconds the state stays valid (single use)")
    intent: Literal["sign_in", "link"]


class OAuthCallbackCreate(_Body):
    """What the provider's redirect gave the frontend: ``code`` and ``state`` from the query string."""

    code: Opaque
    state: OurToken


class OAuthSignupCreate(_Body):
    """Finish a first sign-in whose provider username was taken or invalid."""

    signup_token: OurToken
    username: Username


class IdentityPublic(BaseModel):
    id: uuid.UUID
    provider: str
    email: str | None = Field(description="The e-mail as the provider stated it at the last sign-in")
    email_verified: bool = Field(description="Whether the provider said it had verified that e-mail")
    created_at: TimestampText
    last_used_at: TimestampText


class IdentityListPublic(BaseModel):
    items: list[IdentityPublic]
    has_password: bool = Field(description="Whether the account also signs in with a password (if not, the "
                                           "last identity cannot be unlinked)")


class OAuthResultPublic(BaseModel):
    """``signed_in``/``created``: a new sign-in (token pair). ``linked``: the identity was added to the
    signed-in caller's account; no new tokens."""

    outcome: Literal["signed_in", "created", "linked"]
    user: ProfilePublic
    identity: IdentityPublic
    access_token: str | None = None
    refresh_token: str | None = None
    token_type: Literal["bearer"] | None = None
    expires_in: int | None = None
