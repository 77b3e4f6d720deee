"""HTTP header names and values more than one package sends, spelled once."""

from __future__ import annotations

SYNC_VERSION = "X-Sync-Version"  # the caller's sync version, on every authenticated answer
NO_STORE = "no-store"  # tokens, tickets, sync reads: nothing a cache may keep
PRIVATE = "private, no-cache"  # per-user data: a browser may keep it but must revalidate (cheap 304)
