"""Access-token verification: every forgery in the battery is a 401, a real token passes."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from mangum import Mangum

from shared.core.errors import UnauthorizedError
from shared.core.settings import get_settings
from shared.http.app import api_router, create_app
from shared.http.auth import CurrentUser
from shared.identity import keys
from shared.identity.tokens import issue_access_token, verify_access_token
from tests.support import http_event, invoke

router = api_router("/whoami")


@router.get("")
async def whoami(user_id: CurrentUser) -> dict:
    return {"user_id": str(user_id)}


@pytest.fixture(scope="module")
def handler():
    return Mangum(create_app(router), lifespan="off")


def _claims(**overrides):
    s = get_settings()
    now = int(time.time())
    claims = {"iss": s.jwt_issuer, "aud": s.jwt_audience, "sub": str(uuid.uuid4()), "iat": now,
              "exp": now + 600, "jti": uuid.uuid4().hex, "typ": "access"}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims, kid=None, key=None):
    signer = keys.signing_key()
    return jwt.encode(claims, key or signer.private_key, algorithm="RS256", headers={"kid": kid or signer.kid})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forgeries():
    from cryptography.hazmat.primitives.asymmetric import rsa

    signer = keys.signing_key()
    public_pem = keys.public_key(signer.kid).public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = _sign(_claims())
    head, payload, sig = good.split(".")
    return {
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': signer.kid})}.{payload}.",
        "hs256_with_public_key": _hs256_with(public_pem, signer.kid),
        "bad_signature": f"{head}.{payload}.{sig[:-4]}AAAA",
        "other_private_key": _sign(_claims(), key=other_key),
        "unknown_kid": _sign(_claims(), kid="nope"),
        "wrong_iss": _sign(_claims(iss="https://evil.example")),
        "wrong_aud": _sign(_claims(aud="someone-else")),
        "wrong_typ": _sign(_claims(typ="refresh")),
        "missing_exp": _sign(_claims(exp=None)),
        "expired": _sign(_claims(iat=int(time.time()) - 4000, exp=int(time.time()) - 3600)),
        "garbage": "not.a.jwt",
    }


def _hs256_with(secret: bytes, kid: str) -> str:
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64(_claims())}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"


def test_a_real_token_identifies_the_user(handler):
    user_id = uuid.uuid4()
    token, ttl = issue_access_token(user_id)
    assert ttl == 900
    response = invoke(handler, http_event("GET", "/api/v1/whoami", headers={"authorization": f"Bearer {token}"}))
    assert response.status == 200 and response.json == {"user_id": str(user_id)}
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == keys.signing_key().kid


@pytest.mark.parametrize("name", [
    "alg_none", "hs256_with_public_key", "bad_signature", "other_private_key", "unknown_kid", "wrong_iss",
    "wrong_aud", "wrong_typ", "missing_exp", "expired", "garbage"])
def test_forged_tokens_get_401(handler, name):
    token = _forgeries()[name]
    with pytest.raises(UnauthorizedError):
        verify_access_token(token)
    response = invoke(handler, http_event("GET", "/api/v1/whoami", headers={"authorization": f"Bearer {token}"}))
    assert response.status == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_missing_or_malformed_header_is_401(handler):
    for headers in ({}, {"authorization": "Basic abc"}, {"authorization": "Bearer"}):
        assert invoke(handler, http_event("GET", "/api/v1/whoami", headers=headers)).status == 401


def test_leeway_accepts_a_token_just_expired():
    token = _sign(_claims(iat=int(time.time()) - 910, exp=int(time.time()) - 5))
    assert verify_access_token(token)


def test_jwks_publishes_every_key_for_rotation(monkeypatch):
    monkeypatch.setenv("JWT_KEYS", keys.generate_key_set(("new", "old")))
    from shared.clients.registry import reset_all

    reset_all()
    published = keys.jwks()["keys"]
    assert [k["kid"] for k in published] == ["new", "old"]
    assert all(k["alg"] == "RS256" and "d" not in k for k in published)


def _corrupted_key_set() -> tuple[str, object]:
    """A key set whose signing key has an inconsistent CRT exponent, then a healthy key."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    good = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_numbers()
    bad = rsa.RSAPrivateNumbers(good.p, good.q, good.d, good.dmp1 ^ 2, good.dmq1, good.iqmp, good.public_numbers)
    healthy = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pems = [key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
            for key in (bad.private_key(unsafe_skip_rsa_key_validation=True), healthy)]
    return json.dumps({"keys": [{"kid": "corrupted", "private_pem": pems[0]},
                                {"kid": "healthy", "private_pem": pems[1]}]}), healthy


def test_a_corrupted_signing_key_never_signs_while_verification_goes_on(monkeypatch):
    """Only signing validates the private key (a faulty CRT signature could leak it); verifying
    functions load public halves only, so tokens of the other key still pass."""
    key_set, healthy = _corrupted_key_set()
    monkeypatch.setenv("JWT_KEYS", key_set)
    from shared.clients.registry import reset_all

    reset_all()
    with pytest.raises(ValueError):
        issue_access_token(uuid.uuid4())
    claims = _claims()
    token = jwt.encode(claims, healthy, algorithm="RS256", headers={"kid": "healthy"})
    assert verify_access_token(token).token_id == claims["jti"]


def test_a_key_set_that_repeats_a_kid_is_refused(monkeypatch):
    """Two keys under one kid would make verification pick one of them silently."""
    first, second = json.loads(keys.generate_key_set(("same", "same")))["keys"]
    monkeypatch.setenv("JWT_KEYS", json.dumps({"keys": [first, second]}))
    from shared.clients.registry import reset_all

    reset_all()
    with pytest.raises(RuntimeError, match="repeats a kid"):
        keys.jwks()


# --- the per-container cache of verified tokens (issue 14) ------------------------------------------

@pytest.fixture
def decodes(monkeypatch):
    """How many full verifications (PyJWT decode: signature and claims) run."""
    calls = []
    real = jwt.decode_complete

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode_complete", counting)
    return calls


def test_a_repeated_token_is_verified_once(decodes):
    token, _ = issue_access_token(uuid.uuid4())
    first = verify_access_token(token)
    assert all(verify_access_token(token) == first for _ in range(5))
    assert decodes == [token]
    other, _ = issue_access_token(uuid.uuid4())
    assert verify_access_token(other) != first and decodes == [token, other]


def test_failures_are_never_cached(decodes):
    token = _forgeries()["bad_signature"]
    for _ in range(3):
        with pytest.raises(UnauthorizedError):
            verify_access_token(token)
    assert len(decodes) == 3


def test_a_cached_token_stops_at_its_expiry(monkeypatch, decodes):
    from shared.clients.registry import reset_all

    monkeypatch.setenv("JWT_LEEWAY_S", "0")
    reset_all()
    now = int(time.time())
    token = _sign(_claims(iat=now, exp=now + 3))  # 3 s: both first verifications fit even on a loaded machine
    assert verify_access_token(token) and verify_access_token(token) and len(decodes) == 1
    time.sleep(max(0.0, now + 3.05 - time.time()))
    with pytest.raises(UnauthorizedError):
        verify_access_token(token)
    assert len(decodes) == 2  # the entry was dropped and the token verified again: expired


def test_a_key_set_reload_drops_every_cached_token(monkeypatch, decodes):
    from shared.clients.registry import reset_all

    token, _ = issue_access_token(uuid.uuid4())
    assert verify_access_token(token)
    monkeypatch.setenv("JWT_KEYS", keys.generate_key_set(("rotated",)))
    from shared.core.settings import reset_settings

    reset_settings()
    keys.reset()  # the keys alone reload (not the whole registry): the cache must notice by itself
    with pytest.raises(UnauthorizedError):
        verify_access_token(token)  # its kid is gone with the old key set
    assert len(decodes) == 1  # refused on the kid, before any decode
    reset_all()


def test_the_cache_is_bounded(monkeypatch):
    from shared.identity import tokens

    monkeypatch.setattr(tokens, "CACHE_SIZE", 3)
    issued = [issue_access_token(uuid.uuid4())[0] for _ in range(5)]
    for token in issued:
        verify_access_token(token)
    assert list(tokens._verified) == issued[-3:]
