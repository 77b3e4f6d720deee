"""The RS256 keys: loaded from settings (re-read after a few minutes), published as a JWKS.

Rotation, with no redeploy (docs/operations.md, ``python -m local.deploy add-key|promote-key|
retire-keys <stage> jwt-keys``): add the new key *after* the current one (it is published, so tokens
it will sign can be verified everywhere); then move it first (it signs); drop the old key once the
last token it signed has expired (15 minutes). Two keys are published during a rotation. A warm
container re-reads the set after KEY_SET_MAX_AGE_S, and at once (rate-limited) for an unknown kid.

Verifying and signing load the keys differently, because cold starts pay for it. Loading an RSA
private key validates it (about 35 ms for a 2048-bit key), which matters before signing: a key with
inconsistent CRT parameters can leak itself through a faulty signature. Verification only needs
the public half (n, e), which that check does not protect, so every function that merely verifies
a token loads the key set without it; only the signing key is loaded fully, and only by the function
that signs (``auth``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from shared.clients import registry
from shared.core.settings import get_settings


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Any


# Rotation without a redeploy (issue 11): the key set is re-read after KEY_SET_MAX_AGE_S (the secret
# cache's age), and a token whose kid is unknown makes the container re-read it at once, bypassing
# that cache — at most once per RELOAD_MIN_INTERVAL_S, so a flood of made-up kids costs one Secrets
# Manager call per interval, not one per request.
KEY_SET_MAX_AGE_S = 300
RELOAD_MIN_INTERVAL_S = 30
_clock = time.monotonic
_loaded: tuple[float, tuple[tuple[str, str], ...]] | None = None
_last_forced_reload = float("-inf")


def _configured_keys(*, fresh: bool = False) -> tuple[tuple[str, str], ...]:
    """The key set as configured, ``(kid, private_pem)`` pairs, signing key first; re-read when older
    than KEY_SET_MAX_AGE_S (or ``fresh``), so signing and verifying always see the same set."""
    global _loaded
    now = _clock()
    if fresh or _loaded is None or now - _loaded[0] >= KEY_SET_MAX_AGE_S:
        keys = json.loads(get_settings().jwt_key_set(fresh=fresh))["keys"]
        if not keys:
            raise RuntimeError("the JWT key set is empty")
        kids = [item["kid"] for item in keys]
        if len(set(kids)) != len(kids):
            raise RuntimeError("the JWT key set repeats a kid")
        _loaded = (now, tuple((item["kid"], item["private_pem"]) for item in keys))
    return _loaded[1]


@lru_cache(maxsize=2)
def _public_keys(configured: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return {kid: load_pem_private_key(pem.encode(), password=None, unsafe_skip_rsa_key_validation=True).public_key()
            for kid, pem in configured}


def verification_keys() -> dict[str, Any]:
    """The public key of every configured key by ``kid`` (the signing key first)."""
    return _public_keys(_configured_keys())


@lru_cache(maxsize=2)
def _signing_key(kid: str, pem: str) -> SigningKey:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return SigningKey(kid, load_pem_private_key(pem.encode(), password=None))


def signing_key() -> SigningKey:
    """The first configured key, fully validated: it is the one that signs."""
    return _signing_key(*_configured_keys()[0])


def public_key(kid: str) -> Any | None:
    """The public key for ``kid``; an unknown kid re-reads the key set first (rate-limited): a key
    added by a rotation is accepted without waiting for the cache to age or the container to die."""
    global _last_forced_reload
    key = verification_keys().get(kid)
    if key is None and _clock() - _last_forced_reload >= RELOAD_MIN_INTERVAL_S:
        _last_forced_reload = _clock()
        key = _public_keys(_configured_keys(fresh=True)).get(kid)
    return key


def jwks() -> dict[str, Any]:
    """The public half of every key, as a JSON Web Key Set."""
    from jwt.algorithms import RSAAlgorithm

    keys = []
    for kid, key in verification_keys().items():
        jwk = json.loads(RSAAlgorithm.to_jwk(key))
        keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": keys}


def generate_key_set(kids: tuple[str, ...] = ("local-1",)) -> str:
    """A fresh key set (local stack and tests only; AWS keys live in Secrets Manager)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    keys = []
    for kid in kids:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        keys.append({"kid": kid, "private_pem": pem})
    return json.dumps({"keys": keys})


def reset() -> None:
    global _loaded, _last_forced_reload
    _loaded, _last_forced_reload = None, float("-inf")
    _public_keys.cache_clear()
    _signing_key.cache_clear()


# Cached per container like a client; the registry forgets it too (a key rotation reaches new
# containers, and tests switch key sets).
registry.register("jwt-keys", reset)
