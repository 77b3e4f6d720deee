"""Uploads function: avatars straight to S3/R2 (POST/DELETE /api/v1/me/avatar…)."""

from __future__ import annotations

from typing import Literal

import shared.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Response
from mangum import Mangum
from pydantic import BaseModel, ConfigDict, Field

from shared import avatars
from shared.api import api_router, create_app
from shared.auth import CurrentUser

router = api_router("/me/avatar", tags=["avatar"])


class AvatarUploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_type: Literal["image/png", "image/jpeg", "image/webp"]
    content_length: int | None = Field(None, ge=1, le=avatars.MAX_AVATAR_BYTES,
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


@router.post("/upload", response_model=AvatarUploadPublic)
async def upload(body: AvatarUploadCreate, user_id: CurrentUser) -> AvatarUploadPublic:
    """A presigned upload for a new avatar under the caller's prefix, valid for 5 minutes."""
    return AvatarUploadPublic(**avatars.presign_upload(user_id, body.content_type, body.content_length))


@router.post("/confirm", response_model=AvatarPublic)
async def confirm(body: AvatarConfirmCreate, user_id: CurrentUser) -> AvatarPublic:
    """Check the uploaded object (size, type, magic bytes) and make it the avatar; 422 deletes it."""
    return AvatarPublic(avatar_url=avatars.confirm_upload(user_id, body.key))


@router.delete("", status_code=204)
async def delete(user_id: CurrentUser) -> Response:
    """Remove the avatar and its object."""
    avatars.remove_avatar(user_id)
    return Response(status_code=204)


app = create_app(router)
handler = Mangum(app, lifespan="off")
