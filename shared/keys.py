"""The RS256 signing keys: loaded once per container from settings, published as a JWKS.

Rotation: add the new key *after* the current one and deploy (it is published, so tokens it will
sign can be verified everywhere); then move it first (it signs); drop the old key once the last
token it signed has expired (15 minutes). Two keys are published during a rotation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from shared.settings import get_settings


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Any
    public_key: Any


@lru_cache(maxsize=1)
def key_ring() -> tuple[SigningKey, ...]:
    """All configured keys, the signing key first."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = json.loads(get_settings().jwt_key_set())
    ring = []
    for item in data["keys"]:
        private = load_pem_private_key(item["private_pem"].encode(), password=None)
        ring.append(SigningKey(item["kid"], private, private.public_key()))
    if not ring:
        raise RuntimeError("the JWT key set is empty")
    return tuple(ring)


def signing_key() -> SigningKey:
    return key_ring()[0]


def public_key(kid: str) -> Any | None:
    return next((k.public_key for k in key_ring() if k.kid == kid), None)


def jwks() -> dict[str, Any]:
    """The public half of every key, as a JSON Web Key Set."""
    from jwt.algorithms import RSAAlgorithm

    keys = []
    for key in key_ring():
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key))
        keys.append({**jwk, "kid": key.kid, "use": "sig", "alg": "RS256"})
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
    key_ring.cache_clear()
