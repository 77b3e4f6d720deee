"""The RS256 keys: loaded once per container from settings, published as a JWKS.

Rotation: add the new key *after* the current one and deploy (it is published, so tokens it will
sign can be verified everywhere); then move it first (it signs); drop the old key once the last
token it signed has expired (15 minutes). Two keys are published during a rotation.

Verifying and signing load the keys differently, because cold starts pay for it. Loading an RSA
private key validates it (about 35 ms for a 2048-bit key), which matters before signing: a key with
inconsistent CRT parameters can leak itself through a faulty signature. Verification only needs
the public half (n, e), which that check does not protect, so every function that merely verifies
a token loads the key set without it; only the signing key is loaded fully, and only by the function
that signs (``auth``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from shared.clients import registry
from shared.core.settings import get_settings


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Any


@lru_cache(maxsize=1)
def _configured_keys() -> tuple[dict[str, str], ...]:
    """The key set as configured, read once, so signing and verifying always see the same set."""
    keys = json.loads(get_settings().jwt_key_set())["keys"]
    if not keys:
        raise RuntimeError("the JWT key set is empty")
    kids = [item["kid"] for item in keys]
    if len(set(kids)) != len(kids):
        raise RuntimeError("the JWT key set repeats a kid")
    return tuple(keys)


@lru_cache(maxsize=1)
def verification_keys() -> dict[str, Any]:
    """The public key of every configured key by ``kid`` (the signing key first)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return {
        item["kid"]: load_pem_private_key(item["private_pem"].encode(), password=None,
                                          unsafe_skip_rsa_key_validation=True).public_key()
        for item in _configured_keys()
    }


@lru_cache(maxsize=1)
def signing_key() -> SigningKey:
    """The first configured key, fully validated: it is the one that signs."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    first = _configured_keys()[0]
    return SigningKey(first["kid"], load_pem_private_key(first["private_pem"].encode(), password=None))


def public_key(kid: str) -> Any | None:
    return verification_keys().get(kid)


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
    _configured_keys.cache_clear()
    verification_keys.cache_clear()
    signing_key.cache_clear()


# Cached per container like a client; the registry forgets it too (a key rotation reaches new
# containers, and tests switch key sets).
registry.register("jwt-keys", reset)
