"""``GET /sync``: what a device that was away needs — the changes after its version, or a snapshot.

One statement (``repositories.sync.read``) decides between the two from the same MVCC snapshot. A
``since`` ahead of the server's version is a 409: the client's state did not come from this
server (a restored database, another stage), so it must drop it and take a snapshot — an empty
answer would hide that.
"""

from __future__ import annotations

import uuid

from shared.clients import db
from shared.core import headers
from shared.core.errors import ConflictError, NotFoundError
from shared.models.sync import SyncChangesPublic, SyncSnapshotPublic
from shared.repositories import sync

PAGE_SIZE = 500
MAX_VERSION = 2**62


def read(user_id: uuid.UUID, since: int | None) -> SyncChangesPublic | SyncSnapshotPublic:
    """Changes after ``since`` (``has_more``/``next`` page through), or a snapshot."""
    row = db.run(lambda conn: sync.read(conn, user_id, since, PAGE_SIZE + 1))
    if row is None:
        raise NotFoundError("user not found")
    version = int(row["version"])
    if row["mode"] == "snapshot":
        return SyncSnapshotPublic(version=version, skills=row["skills"], profile=row["profile"],
                                  conflicts=row["conflicts"])
    if since is not None and since > version:
        raise ConflictError("since={since} is ahead of the server's version {version}; "
                            "discard local state and fetch a snapshot (omit since)",
                            code="version_ahead", params={"since": since, "version": version},
                            details={"version": version},
                            headers={"Cache-Control": headers.NO_STORE, headers.SYNC_VERSION: str(version)})
    changes = row["changes"]
    page, has_more = changes[:PAGE_SIZE], len(changes) > PAGE_SIZE
    return SyncChangesPublic(version=version, changes=page, has_more=has_more,
                             next=page[-1]["version"] if has_more else None)
