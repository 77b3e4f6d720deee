"""Signed one-click unsubscribe tokens: the user id plus an HMAC over a purpose and that id.

Stdlib HMAC-SHA256 (truncated to 128 bits), keyed by DIGEST_SIGNING_SECRET (a key list: the first
signs, every one verifies, so rotating the key keeps old links working), with the purpose in the
MAC so a token minted for anything else can never unsubscribe anyone. No expiry: a link in a months-
old email must still work. The token is URL-safe base64 of 16 id bytes + 16 MAC bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid

from shared.core.settings import get_settings

PURPOSE = b"atribuo/digest-unsubscribe/v1:"
MAC_BYTES = 16


def _mac(user_id: uuid.UUID, key: bytes) -> bytes:
    return hmac.new(key, PURPOSE + user_id.bytes, hashlib.sha256).digest()[:MAC_BYTES]


def make_token(user_id: uuid.UUID) -> str:
    """Signed with the first configured key."""
    key = get_settings().digest_signing_keys()[0]
    return base64.urlsafe_b64encode(user_id.bytes + _mac(user_id, key)).decode().rstrip("=")


def read_token(token: str) -> uuid.UUID | None:
    """The user id the token was signed for, or None for anything forged, truncated or malformed."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16 + MAC_BYTES or base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
        return None  # only the canonical spelling: base64's unused low bits must not make a second valid token
    user_id = uuid.UUID(bytes=raw[:16])
    keys = get_settings().digest_signing_keys()
    valid = [hmac.compare_digest(raw[16:], _mac(user_id, key)) for key in keys]  # every key, no early exit
    return user_id if any(valid) else None


def unsubscribe_url(user_id: uuid.UUID) -> str:
    return f"{get_settings().public_api_url.rstrip('/')}/api/v1/digest/unsubscribe?token={make_token(user_id)}"
