"""Uploads function: avatars straight to S3/R2 (POST/DELETE /api/v1/me/avatar…)."""

from __future__ import annotations

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Response
from mangum import Mangum

from shared.core.observability import observed
from shared.http.app import api_router, create_app
from shared.http.auth import CurrentUser
from shared.http.openapi import documented
from shared.http.responses import no_content, no_store_json
from shared.media import avatars
from shared.models.avatars import AvatarConfirmCreate, AvatarPublic, AvatarUploadCreate, AvatarUploadPublic

router = api_router("/me/avatar", tags=["avatar"])


@router.post("/upload", response_model=AvatarUploadPublic, **documented("avatar.upload"))
async def upload(body: AvatarUploadCreate, user_id: CurrentUser) -> Response:
    """A presigned upload for a new avatar under the caller's prefix, valid for 5 minutes."""
    presigned = AvatarUploadPublic(**avatars.presign_upload(user_id, body.content_type, body.content_length))
    return no_store_json(presigned)


@router.post("/confirm", response_model=AvatarPublic, **documented("avatar.confirm"))
async def confirm(body: AvatarConfirmCreate, user_id: CurrentUser) -> Response:
    """Check the uploaded object (size, type, magic bytes, that it decodes), make its 64/128/256 px WebP
    sizes and make it the avatar; 422 deletes it."""
    url, urls = avatars.confirm_upload(user_id, body.key)
    return no_store_json(AvatarPublic(avatar_url=url, avatar_urls=urls))


@router.delete("", status_code=204, **documented("avatar.delete"))
async def delete(user_id: CurrentUser) -> Response:
    """Remove the avatar and its object."""
    avatars.remove_avatar(user_id)
    return no_content()


app = create_app(router)
handler = observed(Mangum(app, lifespan="off"))  # ColdStart, and metrics flushed once per invocation
