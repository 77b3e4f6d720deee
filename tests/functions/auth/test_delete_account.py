"""Leaving (issue 15): DELETE /me through the auth handler, asserted on the real Postgres, Redis and moto.

The account has skills (through the skills handler), files under its S3 prefix, cached public views
(through the profiles handler), an open WebSocket (through the local gateway) and sessions; after the
delete every one of them is gone, and everything that used to work with it answers 401 or 404.
"""

from __future__ import annotations

import uuid

import boto3
import pytest
from websockets.exceptions import ConnectionClosed

from functions.profiles.app import handler as profiles_handler
from functions.skills.app import handler as skills_handler
from shared.clients import db
from shared.clients.redis import get_redis
from shared.identity import erasure
from shared.media import avatars
from shared.public import cache as public_cache
from tests.functions.auth.test_app import IP_B, PASSWORD, bearer, call, login, refresh, register
from tests.support.digests import avatar_bucket  # noqa: F401 - fixture
from tests.support.mail import Mailbox
from tests.support.realtime import open_socket
from tests.support.skills import call as call_function

pytestmark = pytest.mark.usefixtures("mail_queue", "ws_gateway")

# Every table with a column naming a user; after the delete none may hold the user's id.
USER_COLUMNS = {"users": "id", "skills": "owner_id", "skill_progress": "owner_id", "changes": "owner_id",
                "refresh_families": "user_id", "refresh_tokens": "user_id", "ws_connections": "user_id",
                "digest_sends": "user_id", "sync_conflicts": "owner_id", "applied_operations": "owner_id",
                "account_tokens": "user_id", "security_events": "user_id"}


def delete_me(pair: dict, password: str = PASSWORD, ip: str = IP_B):
    return call("DELETE", "/me", {"password": password}, headers=bearer(pair), ip=ip)


def rows_of(user_id: uuid.UUID) -> dict[str, int]:
    conn = db.get_conn()
    tables = {r["table_name"] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").fetchall()}
    return {t: conn.execute(f"SELECT count(*) AS n FROM {t} WHERE {c} = %s", (user_id,)).fetchone()["n"]
            for t, c in USER_COLUMNS.items() if t in tables}


def test_the_user_prefixes_are_the_ones_media_writes_under():
    """Avatars, and (issue 15) the exports and uploaded imports of the bucket hand-off."""
    from shared.identity import handoff

    user_id = uuid.uuid4()
    assert [p.format(user_id=user_id) for p in erasure.USER_PREFIXES] == [
        avatars.user_prefix(user_id), handoff.EXPORT_PREFIX.format(user_id=user_id),
        handoff.IMPORT_PREFIX.format(user_id=user_id)]


def test_delete_me_erases_rows_files_cache_and_sockets_and_leaves_a_tombstone(avatar_bucket):  # noqa: F811
    pair = register("quester", "quester@example.com")
    other = register("bystander", "bystander@example.com")
    mailbox = Mailbox()
    user_id = uuid.UUID(pair["user"]["id"])
    for name in ("Python", "Guitar"):
        created = call_function(skills_handler, "POST", "/api/v1/skills", bearer(pair),
                                {"name": name, "category": "music", "level": 3})
        assert created.status == 201, created
    s3 = boto3.client("s3")
    mine = [f"avatars/{user_id}/{uuid.uuid4().hex}.png" for _ in range(3)]
    theirs = f"avatars/{other['user']['id']}/{uuid.uuid4().hex}.png"
    for key in [*mine, theirs]:
        s3.put_object(Bucket=avatar_bucket, Key=key, Body=b"\x89PNG")
    for path in ("/api/v1/users/quester", "/api/v1/users/quester/card.svg", "/api/v1/users/quester/card.png",
                 "/api/v1/leaderboard"):
        assert call_function(profiles_handler, "GET", path).status == 200
    assert get_redis().exists(public_cache.profile_key("quester"), public_cache.card_key("quester")) == 2
    png_keys = get_redis().keys(public_cache.card_png_key("*"))
    assert len(png_keys) == 1
    assert "quester" in [e["username"] for e in call_function(profiles_handler, "GET", "/api/v1/leaderboard")
                         .json["entries"]]
    assert sum(rows_of(user_id).values()) > 5

    with open_socket(user_id) as socket:
        response = delete_me(pair)
        assert response.status == 204, response
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=5)

    assert rows_of(user_id) == dict.fromkeys(rows_of(user_id), 0)
    # The user's prefix is empty, the bystander's file is untouched (other tests share the bucket, so
    # the check is per prefix, not "whatever is left in the bucket").
    assert s3.list_objects_v2(Bucket=avatar_bucket, Prefix=f"avatars/{user_id}/").get("KeyCount") == 0
    bystander = s3.list_objects_v2(Bucket=avatar_bucket, Prefix=f"avatars/{other['user']['id']}/")
    assert [o["Key"] for o in bystander.get("Contents", [])] == [theirs]
    assert get_redis().exists(public_cache.profile_key("quester"), public_cache.card_key("quester")) == 0
    assert get_redis().exists(*png_keys) == 0
    assert call_function(profiles_handler, "GET", "/api/v1/users/quester").status == 404
    assert call_function(profiles_handler, "GET", "/api/v1/users/quester/card.svg").status == 404
    assert "quester" not in [e["username"] for e in call_function(profiles_handler, "GET", "/api/v1/leaderboard")
                             .json["entries"]]
    assert login().status == 401 and refresh(pair["refresh_token"]).status == 401
    again = delete_me(pair)
    assert again.status == 401, again
    mail = mailbox.take("quester@example.com")
    assert mail["subject"] == "Your Atribuo account was deleted"
    # the username stays reserved, so nobody can take over the old public profile link
    taken = call("POST", "/auth/register", {"username": "Quester", "email": "new@example.com",
                                            "password": "a long enough passphrase"})
    assert taken.status == 409 and taken.json["error"]["details"][0]["field"] == "body.username"
    assert refresh(other["refresh_token"]).status == 200  # nobody else was touched


def test_a_wrong_password_deletes_nothing_and_is_throttled(avatar_bucket):  # noqa: F811
    pair = register()
    user_id = uuid.UUID(pair["user"]["id"])
    wrong = delete_me(pair, password="not my password")
    assert wrong.status == 403 and wrong.json["error"]["code"] == "invalid_credentials"
    assert rows_of(user_id)["users"] == 1
    for _ in range(9):
        delete_me(pair, password="not my password")
    assert delete_me(pair).status == 429  # a password check is a guess: the sign-in limit applies
    assert rows_of(user_id)["users"] == 1


def test_a_tombstone_expires(avatar_bucket):  # noqa: F811
    pair = register()
    assert delete_me(pair).status == 204
    db.get_conn().execute("UPDATE username_tombstones SET reserved_until = now() - interval '1 second'")
    again = call("POST", "/auth/register", {"username": "quester", "email": "q2@example.com",
                                            "password": "a long enough passphrase"})
    assert again.status == 201
