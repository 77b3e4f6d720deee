"""The DepsLayer's lock (issue 11): layers/deps/requirements.txt pins the whole closure of
requirements.in, and what `make install` (CI's install) put in the virtualenv is exactly it.

Offline: the closure is walked through the installed packages' own metadata (Requires-Dist, with
markers evaluated for the layer's target, CPython 3.12 on arm64), not through the package index.
"""

from __future__ import annotations

import importlib.metadata

from local import lock


def test_the_lock_was_generated_from_the_current_top_level_list():
    assert lock.recorded_hash() == lock.top_level_hash(), "requirements.in changed: run `make lock`"


def test_every_top_level_pin_is_locked_at_its_version():
    locked = lock.pins(lock.LOCK)
    for name, version in lock.pins(lock.TOP_LEVEL).items():
        assert locked.get(name) == version, f"{name}=={version} in requirements.in, {locked.get(name)} in the lock"


def test_the_installed_packages_are_the_locked_versions():
    """CI installs requirements-dev.txt, which includes requirements.txt and so this lock: a dev pin that
    moved a locked package, or a lock never installed, shows here."""
    for name, version in lock.pins(lock.LOCK).items():
        assert importlib.metadata.version(name) == version, name


def _requires(name: str) -> list[str]:
    return importlib.metadata.requires(name) or []


def test_the_lock_is_exactly_the_closure_of_the_top_level_list():
    needed = lock.closure(lock.requirement_lines(lock.TOP_LEVEL), _requires)
    locked = set(lock.pins(lock.LOCK))
    assert needed - locked == set(), "needed by the layer but not locked: run `make lock`"
    assert locked - needed == set(), "locked but needed by nothing: run `make lock`"
    assert not locked & lock.RUNTIME_PROVIDED  # the layer must not shadow the runtime's boto3 closure


def test_a_drifted_top_level_list_is_detected(tmp_path, monkeypatch):
    edited = tmp_path / "requirements.in"
    edited.write_text(lock.TOP_LEVEL.read_text() + "mangum==0.0.1\n")
    monkeypatch.setattr(lock, "TOP_LEVEL", edited)
    assert lock.main(["--check"]) == 1
