"""A fresh secret in moto's Secrets Manager, and a clock to age caches without waiting."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest


class Clock:
    """Stands in for time.monotonic in the module under test, so waiting 30 s takes no time."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def secret(stack):
    """A fresh secret in moto's Secrets Manager; returns (name, put(value))."""
    manager = boto3.client("secretsmanager")
    name = f"atribuo/test/{uuid.uuid4().hex}"

    def put(value: str) -> None:
        try:
            manager.put_secret_value(SecretId=name, SecretString=value)
        except manager.exceptions.ResourceNotFoundException:
            manager.create_secret(Name=name, SecretString=value)

    yield name, put
    manager.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


