"""Leaving (issue 15): ``DELETE /me`` erases the account and everything that hangs off it.

Order matters for what a failure leaves behind. The caller proves who they are first: the password
(throttled like a sign-in) or a fresh sign-in (``shared.identity.reauth``; an account without a
password signs in again with its provider). Then the user's stored files go (every per-user S3
prefix), then one SQL statement deletes the user row (skills, history, change log, sessions,
connections, tokens, security log: all cascade) and keeps a username tombstone; then the public
cache entries are dropped, the open WebSockets closed, and a confirmation mailed. A failure before
the statement leaves a working account (at worst without its avatar, which the user was deleting
anyway); after it, only best-effort cleanup remains and is logged. A second ``DELETE /me`` with the
same token is a 401: the account is gone.
"""

from __future__ import annotations

import uuid

from shared.clients import db, s3
from shared.clients.redis import get_redis
from shared.core import i18n
from shared.core.encoding import etag_of
from shared.core.errors import (
    ConflictError,
    MailUnavailableError,
    ServiceUnavailableError,
)
from shared.core.observability import logger
from shared.core.settings import get_settings
from shared.identity import reauth
from shared.identity.tokens import Principal
from shared.mail import messages
from shared.mail.send import send
from shared.public import cache
from shared.repositories import users
from shared.sync import fanout

# Every prefix the user's files live under (shared.media.avatars.user_prefix, and the exports and
# imports of shared.identity.handoff; a test keeps them equal).
USER_PREFIXES = ("avatars/{user_id}/", "exports/{user_id}/", "imports/{user_id}/")


def delete_account(principal: Principal, password: str | None, client_ip: str) -> None:
    user_id = principal.user_id
    account = reauth.confirm(principal, password, client_ip)
    delete_files(user_id)
    gone = db.run(lambda conn: users.delete_account(conn, user_id, password_hash=account["password_hash"],
                                                    reserve_s=get_settings().username_reserve_s))
    if gone is None:
        raise ConflictError("the account changed while it was being deleted; try again")
    logger.info("account deleted", extra={"user_id": str(user_id), "connections": len(gone["connections"])})
    _after(gone)


def delete_files(user_id: uuid.UUID) -> int:
    """Delete every object under the user's prefixes (pages of up to 1000 keys); how many went.

    A storage outage is a 503 and nothing else has happened yet (the account is still there).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    client, bucket, deleted = s3.get_s3(), get_settings().avatar_bucket, 0
    try:
        for prefix in (p.format(user_id=user_id) for p in USER_PREFIXES):
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
    except (BotoCoreError, ClientError) as exc:
        raise ServiceUnavailableError("file storage is unavailable, try again shortly") from exc
    return deleted


def _after(gone: dict) -> None:
    """Cleanup outside Postgres once the account is gone: each step independent and best effort."""
    try:
        # the card's PNG is cached under the hash of its SVG: find it before the SVG entry goes
        svg = cache.get(cache.card_key(gone["username"]))
        cache.invalidate(gone["username"], leaderboards=True)  # they leave every board at once
        if svg is not None:
            get_redis().delete(cache.card_png_key(etag_of(svg.encode()).strip('"')))
    except Exception as exc:  # the entries expire within minutes anyway
        logger.warning("public cache not invalidated after deletion", extra={"error": type(exc).__name__})
    for connection_id in gone["connections"]:
        fanout.close_connection(connection_id)
    if gone["suppressed"]:
        return
    try:
        send(messages.account_deleted(gone["name"], locale=i18n.pick(gone.get("locale"))), to=gone["email"],
             sender=get_settings().mail_from_email)
    except MailUnavailableError:
        logger.warning("deletion confirmation not mailed", extra={"user_id": str(gone["id"])})
