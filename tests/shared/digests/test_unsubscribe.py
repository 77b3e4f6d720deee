"""Unsubscribe links under a key rotation: the first key signs, every listed key verifies."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.clients.registry import reset_all
from shared.digests.unsubscribe import make_token, read_token


def _keys(monkeypatch, *keys: str) -> None:
    monkeypatch.setenv("DIGEST_SIGNING_SECRET", json.dumps({"keys": list(keys)}))
    reset_all()


def test_a_link_signed_before_the_rotation_still_unsubscribes(monkeypatch):
    user = uuid.uuid4()
    _keys(monkeypatch, "old-key-" + "x" * 32)
    sent_last_month = make_token(user)
    _keys(monkeypatch, "new-key-" + "y" * 32, "old-key-" + "x" * 32)
    assert read_token(sent_last_month) == user
    fresh = make_token(user)
    assert fresh != sent_last_month and read_token(fresh) == user
    _keys(monkeypatch, "new-key-" + "y" * 32)  # the old key retired: its links stop working
    assert read_token(sent_last_month) is None and read_token(fresh) == user


def test_a_plain_single_key_still_works(monkeypatch):
    monkeypatch.setenv("DIGEST_SIGNING_SECRET", "a-plain-key-" + "z" * 32)
    reset_all()
    user = uuid.uuid4()
    assert read_token(make_token(user)) == user


@pytest.mark.parametrize("value", ['{"keys": []}', '{"keys": ["changeme"]}'])
def test_an_empty_or_placeholder_key_list_is_refused(monkeypatch, value):
    monkeypatch.setenv("DIGEST_SIGNING_SECRET", value)
    reset_all()
    with pytest.raises(RuntimeError, match="empty or holds a placeholder"):
        make_token(uuid.uuid4())
