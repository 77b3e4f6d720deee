"""Imported first by every FastAPI function module: the cyclic garbage collector sits out the import.

Importing FastAPI, pydantic, Starlette and psycopg allocates a few hundred thousand long-lived
objects, and the collector, triggered by allocation counts, walks them again and again while they
are being built: 20 to 30 ms of a ~450 ms cold start (bench/cold_start.py), none of it finding garbage.
So collection pauses here, before any heavy import, and ``ready()`` (called by ``create_app``)
resumes it with everything imported so far frozen (``gc.freeze``): later collections, in the warm
path too, no longer walk the module graph. Reference counting frees memory as usual throughout.
"""

from __future__ import annotations

import gc

gc.disable()


def ready() -> None:
    """The module graph is built: freeze it out of future collections and let the collector run.

    Only the first call after the pause freezes (tests build many apps; their garbage must not be
    frozen with the modules).
    """
    if gc.isenabled():
        return
    gc.freeze()
    gc.enable()
