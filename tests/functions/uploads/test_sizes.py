"""Avatar sizes (issue 17): confirm makes 64/128/256 px WebP variants with Pillow, refuses what does not
decode (a 422, the upload deleted, never a 500), and the variants go with the avatar and the account.

Against moto's S3 and the real Postgres; the variants are read back from the bucket and decoded.
"""

from __future__ import annotations

import io
import uuid

import boto3
import pytest

from functions.profiles.app import handler as profiles_handler
from functions.skills.app import handler as skills_handler
from functions.uploads.app import handler
from shared.clients import db
from shared.identity import erasure
from shared.media import avatars, images
from shared.repositories.users import get_user
from tests.functions.uploads.test_app import confirm, exists, put
from tests.support import http_event, invoke
from tests.support.images import image_bytes, jpeg, png, png_bomb, webp
from tests.support.skills import call

RED, BLUE = (220, 20, 20), (20, 20, 220)


def confirmed(user: dict, headers: dict, body: bytes, ext: str = "png", content_type: str = "image/png"):
    from shared.core.settings import get_settings

    key = f"avatars/{user['id']}/{uuid.uuid4().hex}.{ext}"
    put(get_settings().avatar_bucket, key, body, content_type)
    return confirm(headers, key)


def variant(bucket: str, key: str):
    from PIL import Image

    stored = boto3.client("s3").get_object(Bucket=bucket, Key=key)
    assert stored["ContentType"] == "image/webp" and stored["CacheControl"] == avatars.SERVED_CACHING
    return Image.open(io.BytesIO(stored["Body"].read()))


def key_of(url: str) -> str:
    return "avatars/" + url.split("/avatars/", 1)[1]


def avatar_key(user: dict) -> str:
    """The confirmed avatar's name: the key its checked copy had (deleted once its sizes exist)."""
    return db.get_conn().execute("SELECT avatar_key FROM users WHERE id = %s", (user["id"],)).fetchone()["avatar_key"]


def size_keys(user: dict) -> list[str]:
    return [avatars.variant_key(avatar_key(user), size) for size in images.SIZES]


def sideways_jpeg() -> bytes:
    """300 x 200, red left half and blue right half, with EXIF orientation 6 (shown rotated 90° clockwise:
    red on top) and a GPS tag that must not survive."""
    from PIL import Image

    image = Image.new("RGB", (300, 200), BLUE)
    image.paste(RED, (0, 0, 150, 200))
    exif = image.getexif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    return buffer.getvalue()


@pytest.mark.parametrize(("body", "ext", "content_type"), [
    (png(size=(40, 30)), "png", "image/png"),  # smaller than every size: scaled up to each
    (webp(size=(500, 500), color=(1, 2, 3, 128)), "webp", "image/webp"),  # transparency kept
    (jpeg(size=(640, 480)), "jpg", "image/jpeg"),
])
def test_confirm_makes_square_webp_sizes_under_the_users_prefix(make_user, avatar_bucket, body, ext, content_type):
    user, headers = make_user()
    response = confirmed(user, headers, body, ext, content_type)
    original = avatar_key(user)
    urls = response.json["avatar_urls"]
    assert set(urls) == {"64", "128", "256"}
    assert response.json["avatar_url"] == urls["256"]  # the re-encoded size: the upload's bytes never are
    assert not exists(avatar_bucket, original)  # nor kept: they may carry EXIF (a GPS position)
    for size, url in urls.items():
        key = key_of(url)
        assert key == avatars.variant_key(original, int(size)) and key.startswith(f"avatars/{user['id']}/served/")
        image = variant(avatar_bucket, key)
        assert (image.format, image.size) == ("WEBP", (int(size), int(size)))
        assert "exif" not in image.info and "icc_profile" not in image.info and "xmp" not in image.info
    stored = db.get_conn().execute("SELECT avatar_urls, avatar_card FROM users WHERE id = %s",
                                   (user["id"],)).fetchone()
    assert stored["avatar_urls"] == urls
    card = boto3.client("s3").get_object(Bucket=avatar_bucket, Key=key_of(urls["128"]))["Body"].read()
    assert bytes(stored["avatar_card"]) == card  # the card embeds exactly the 128 px variant


def test_exif_orientation_is_applied_and_metadata_dropped(make_user, avatar_bucket):
    user, headers = make_user()
    response = confirmed(user, headers, sideways_jpeg(), "jpg", "image/jpeg")
    image = variant(avatar_bucket, key_of(response.json["avatar_urls"]["256"])).convert("RGB")
    top, bottom = image.getpixel((128, 8)), image.getpixel((128, 247))
    assert top[0] > 150 and top[2] < 100, top  # red on top: turned as the camera said
    assert bottom[2] > 150 and bottom[0] < 100, bottom
    assert image.getexif() == {} and "exif" not in image.info


@pytest.mark.parametrize(("name", "body", "ext", "content_type"), [
    ("decompression bomb (50 000 x 50 000 announced)", png_bomb(), "png", "image/png"),
    ("just over the pixel limit", png_bomb(4001, 4000), "png", "image/png"),
    ("a strip no avatar is", png_bomb(12_000, 10), "png", "image/png"),
    ("PNG signature, then garbage", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64), "png", "image/png"),
    ("JPEG signature, then garbage", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200), "jpg", "image/jpeg"),
    ("truncated WebP", webp(size=(300, 300))[:40], "webp", "image/webp"),
    ("truncated PNG", png(size=(300, 300))[:60], "png", "image/png"),
])
def test_what_does_not_decode_is_a_422_and_deleted(make_user, avatar_bucket, name, body, ext, content_type):
    user, headers = make_user()
    key = f"avatars/{user['id']}/{uuid.uuid4().hex}.{ext}"
    put(avatar_bucket, key, body, content_type)
    response = confirm(headers, key)
    assert response.status == 422, (name, response)
    assert response.json["error"]["code"] == "invalid_upload" and response.json["error"]["details"]["reason"]
    assert "Traceback" not in response.body.decode()
    assert not exists(avatar_bucket, key)
    listed = boto3.client("s3").list_objects_v2(Bucket=avatar_bucket, Prefix=f"avatars/{user['id']}/")
    assert listed.get("KeyCount", 0) == 0, f"{name}: nothing of it stays, no copy, no size"
    assert get_user(db.get_conn(), user["id"])["avatar_url"] is None


def test_the_pixel_limit_is_checked_before_decoding():
    """A bomb is refused from its header: decoding 2.5 G pixels would not finish (or fit) at all."""
    with pytest.raises(images.InvalidImage, match="pixels"):
        images.variants(png_bomb(), "image/png")
    assert set(images.variants(png(size=(4000, 4000)), "image/png")) == set(images.SIZES)  # the limit itself


def test_a_different_format_behind_the_extension_is_not_decoded():
    """Only the declared format's decoder runs: a GIF, even a valid one, never reaches Pillow's GIF plugin."""
    with pytest.raises(images.InvalidImage):
        images.variants(image_bytes("GIF"), "image/png")


def test_replacing_and_deleting_the_avatar_deletes_its_sizes(make_user, avatar_bucket):
    user, headers = make_user()
    assert confirmed(user, headers, png()).status == 200
    first_keys = size_keys(user)
    assert all(exists(avatar_bucket, key) for key in first_keys) and len(first_keys) == 3
    assert confirmed(user, headers, webp(), "webp", "image/webp").status == 200
    second_keys = size_keys(user)
    assert not any(exists(avatar_bucket, key) for key in first_keys)
    assert all(exists(avatar_bucket, key) for key in second_keys)
    assert invoke(handler, http_event("DELETE", "/api/v1/me/avatar", headers=headers)).status == 204
    assert not any(exists(avatar_bucket, key) for key in second_keys)
    row = db.get_conn().execute("SELECT avatar_url, avatar_urls, avatar_card FROM users WHERE id = %s",
                                (user["id"],)).fetchone()
    assert row == {"avatar_url": None, "avatar_urls": None, "avatar_card": None}


def test_deleting_the_account_deletes_the_sizes(make_user, avatar_bucket):
    """DELETE /me erases every object under the user's prefix (shared.identity.erasure.delete_files,
    the step the auth function runs): the sizes live under it, beside the avatar."""
    user, headers = make_user()
    assert confirmed(user, headers, jpeg(), "jpg", "image/jpeg").status == 200
    keys = size_keys(user)
    assert all(exists(avatar_bucket, key) for key in keys)
    assert erasure.delete_files(user["id"]) == 3
    assert not any(exists(avatar_bucket, key) for key in keys)


def test_another_users_confirm_cannot_touch_my_avatar(make_user, avatar_bucket):
    me, mine = make_user("alice")
    _, mallory = make_user("mallory")
    response = confirmed(me, mine, png())
    keys = size_keys(me)
    pending = f"avatars/{me['id']}/{uuid.uuid4().hex}.png"
    put(avatar_bucket, pending, png_bomb(), "image/png")  # even my bad upload is not theirs to refuse
    for key in (pending, keys[0], keys[1], f"avatars/{me['id']}/served/{keys[0].rsplit('/', 1)[1]}"):
        assert confirm(mallory, key).status == 404
    assert all(exists(avatar_bucket, key) for key in [*keys, pending])
    assert get_user(db.get_conn(), me["id"])["avatar_url"] == response.json["avatar_url"]
    assert db.get_conn().execute("SELECT avatar_urls FROM users WHERE id = %s", (me["id"],)).fetchone() == \
        {"avatar_urls": response.json["avatar_urls"]}


def test_avatar_urls_are_served_wherever_avatar_url_is(make_user, avatar_bucket):
    """The owner's profile (and the change log devices sync it from), the public profile, search, the
    leaderboard and its around-me window carry ``avatar_urls`` beside ``avatar_url``; without an avatar
    both are null."""
    user, headers = make_user("pictured")
    _, other = make_user("plainface")

    for auth in (headers, other):
        created = call(skills_handler, "POST", "/api/v1/skills", auth, {"name": "Chess", "category": "mind",
                                                                         "level": 3})
        assert created.status == 201, created

    def views(username: str, auth: dict) -> list[dict]:
        me = call(profiles_handler, "GET", "/api/v1/me/profile", auth).json
        public = call(profiles_handler, "GET", f"/api/v1/users/{username}").json
        found = call(profiles_handler, "GET", "/api/v1/users", query={"q": username}).json["items"]
        board = call(profiles_handler, "GET", "/api/v1/leaderboard").json["entries"]
        around = call(profiles_handler, "GET", "/api/v1/leaderboard", auth, query={"around": "me"}).json["entries"]
        return [me, public, *[item for item in [*found, *board, *around] if item["username"] == username]]

    for view in views("plainface", other):
        assert view["avatar_url"] is None and view["avatar_urls"] is None
    response = confirmed(user, headers, png())
    seen = views("pictured", headers)
    assert len(seen) == 5
    for view in seen:
        assert view["avatar_url"] == response.json["avatar_url"]
        assert view["avatar_urls"] == response.json["avatar_urls"]
    change = db.get_conn().execute("SELECT data FROM changes WHERE owner_id = %s ORDER BY version DESC LIMIT 1",
                                   (user["id"],)).fetchone()["data"]
    assert change["avatar_urls"] == response.json["avatar_urls"]


def test_the_card_shows_the_avatar_and_drops_it_with_the_avatar(make_user, avatar_bucket):
    """card.svg embeds the 128 px size as data (no URL), card.png draws it; a new or removed avatar
    invalidates the cached card like any profile write."""
    import base64

    from PIL import Image

    from shared.public.card import avatar_box

    user, headers = make_user("pictured")
    assert "<image" not in call(profiles_handler, "GET", "/api/v1/users/pictured/card.svg").body.decode()  # cached
    response = confirmed(user, headers, png(size=(200, 200), color=RED))
    svg = call(profiles_handler, "GET", "/api/v1/users/pictured/card.svg")
    small = boto3.client("s3").get_object(Bucket=avatar_bucket, Key=key_of(response.json["avatar_urls"]["128"]))
    assert f'href="data:image/webp;base64,{base64.b64encode(small["Body"].read()).decode()}"' in svg.body.decode()
    assert svg.headers["content-security-policy"] == "default-src 'none'; img-src data:"
    drawn = Image.open(io.BytesIO(call(profiles_handler, "GET", "/api/v1/users/pictured/card.png").body))
    box = avatar_box()
    centre = drawn.convert("RGB").getpixel((int(box.x0 + box.x1), int(box.y0 + box.y1)))  # card.png is 2x
    assert centre[0] > 180 and centre[1] < 60 and centre[2] < 60, centre
    assert invoke(handler, http_event("DELETE", "/api/v1/me/avatar", headers=headers)).status == 204
    assert "<image" not in call(profiles_handler, "GET", "/api/v1/users/pictured/card.svg").body.decode()


def test_a_confirm_whose_write_is_refused_leaves_no_copy_or_size_behind(avatar_bucket):
    """After logout-all the old token's confirm is a 401 (the write statement checks the sign-in); the
    checked copy and the sizes already stored are deleted, since nothing references them."""
    from functions.auth.app import handler as auth
    from tests.functions.auth.test_revocation_on_writes import bearer, sign_in

    tokens = sign_in("revoked")
    user_id = get_user_id("revoked")
    key = f"avatars/{user_id}/{uuid.uuid4().hex}.png"
    put(avatar_bucket, key, png(), "image/png")
    assert invoke(auth, http_event("POST", "/api/v1/auth/logout-all", headers=bearer(tokens))).status == 204
    response = confirm(bearer(tokens), key)
    assert response.status == 401 and response.json["error"]["code"] == "session_revoked"
    served_objects = boto3.client("s3").list_objects_v2(Bucket=avatar_bucket, Prefix=f"avatars/{user_id}/served/")
    assert served_objects.get("KeyCount", 0) == 0
    assert db.get_conn().execute("SELECT avatar_url, avatar_urls FROM users WHERE id = %s", (user_id,)).fetchone() \
        == {"avatar_url": None, "avatar_urls": None}


def get_user_id(username: str) -> uuid.UUID:
    return db.get_conn().execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()["id"]


def test_a_decoder_that_breaks_in_an_unlisted_way_is_still_a_refusal(monkeypatch):
    """Crafted files make decoders raise what nobody lists (struct.error, KeyError, ZeroDivisionError):
    each is the same InvalidImage (so a 422, the file deleted), never a 500."""
    import struct

    from PIL import ImageOps

    def broken(image):
        raise struct.error("unpack requires a buffer of 4 bytes")

    monkeypatch.setattr(ImageOps, "exif_transpose", broken)
    with pytest.raises(images.InvalidImage):
        images.variants(png(size=(80, 80)), "image/png")
