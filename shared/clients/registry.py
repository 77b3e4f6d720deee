"""The one list of container-level clients, so a single ``reset_all()`` forgets every one of them.

Each client module registers its ``reset`` when it is imported. Tests call ``reset_all()`` between
cases (the next use then reads the current environment); a SnapStart restore (``on_restore``) calls
it too, because sockets and cached credentials captured in the snapshot are dead or stale after a
restore. Settings are cached per container as well and are forgotten with the clients.
"""

from __future__ import annotations

from collections.abc import Callable

_resets: dict[str, Callable[[], None]] = {}


def register(name: str, reset: Callable[[], None]) -> None:
    """Add (or replace) the reset of the client called ``name``."""
    _resets[name] = reset


def registered() -> list[str]:
    return sorted(_resets)


def reset_all() -> None:
    """Forget every client created so far and the cached settings; the next use builds them anew."""
    from shared.core.settings import reset_settings

    reset_settings()
    for reset in list(_resets.values()):
        reset()


def _reset_after_snapshot_restore() -> None:
    """With SnapStart (template parameter), Lambda resumes containers from a snapshot taken after the
    imports: the runtime's hook makes every client start afresh there (a socket or credential in the
    snapshot is dead or shared by every restored copy). Outside SnapStart the module does not exist."""
    try:
        from snapshot_restore_py import register_after_restore  # the Lambda Python runtime's, with SnapStart
    except ImportError:
        return
    register_after_restore(reset_all)


_reset_after_snapshot_restore()
