"""Avatars on the wire: the upload request, the presigned upload it gets, the confirmation, the URL."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_AVATAR_BYTES = 2 * 1024 * 1024

# Issue 17: the avatar's square WebP sizes, by edge length in px. Null with no avatar, and for an avatar
# confirmed before sizes existed (avatar_url still serves it; uploading it again makes its sizes).
AvatarUrls = Annotated[
    dict[Literal["64", "128", "256"], str] | None,
    Field(description='The avatar as square WebP images by edge length in px: {"64": url, "128": url, '
                      '"256": url}. Null when there is no avatar (or it predates sizes: use avatar_url).'),
]


class AvatarUploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_type: Literal["image/png", "image/jpeg", "image/webp"]
    content_length: int | None = Field(None, ge=1, le=MAX_AVATAR_BYTES,
                                       description="Signed into the PUT in R2 mode; S3 POST uses a range.")


class AvatarUploadPublic(BaseModel):
    method: Literal["POST", "PUT"] = Field(description="POST: multipart form with `fields` then the file; "
                                                       "PUT: the raw bytes with `headers`.")
    url: str
    fields: dict[str, str]
    headers: dict[str, str]
    key: str
    expires_in: int


class AvatarConfirmCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=200)


class AvatarPublic(BaseModel):
    avatar_url: str | None
    avatar_urls: AvatarUrls
