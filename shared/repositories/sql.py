"""SQL fragments the repositories share: entity JSON built in Postgres, and the write result.

The public JSON of an entity is built by the database (``jsonb_build_object``) in the same statement
that reads or writes it, so the HTTP response, the ``changes`` log row and the sync snapshot are
byte-for-byte the same shape. Timestamps are formatted in UTC with microseconds (``…Z``) regardless
of the session's TimeZone, so they sort as text and round-trip through cursors exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Row = dict[str, Any]
WriteStatus = Literal["applied", "unchanged", "not_found", "stale", "revoked"]


def iso(column: str) -> str:
    """``column`` (timestamptz) as ISO 8601 UTC text with microseconds."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def skill_json(alias: str, *, goal: bool = True) -> str:
    """A skill's JSON as its owner sees it (what the API returns and what ``changes.data`` holds).

    ``goal=False``: without the goal, for views of the skill that others see (the public profile): a
    goal is the owner's private plan.
    """
    a = alias
    goal_json = (f", 'goal', CASE WHEN {a}.goal_level IS NULL THEN NULL ELSE jsonb_build_object("
                 f"'target_level', {a}.goal_level, 'target_date', to_char({a}.goal_date, 'YYYY-MM-DD'),"
                 f" 'reached_at', {iso(f'{a}.goal_reached_at')}) END") if goal else ""
    return (f"jsonb_build_object('id', {a}.id, 'name', {a}.name, 'category', {a}.category, 'level', {a}.level,"
            f" 'description', {a}.description{goal_json}, 'created_at', {iso(f'{a}.created_at')},"
            f" 'updated_at', {iso(f'{a}.updated_at')})")


def profile_json(alias: str) -> str:
    """The owner's view of their profile (``GET /me/profile`` and ``changes.data`` for 'profile')."""
    a = alias
    return (f"jsonb_build_object('id', {a}.id, 'username', {a}.username, 'email', {a}.email,"
            f" 'display_name', {a}.display_name, 'avatar_url', {a}.avatar_url, 'avatar_urls', {a}.avatar_urls,"
            f" 'bio', {a}.bio,"
            f" 'privacy_settings', {a}.privacy_settings, 'timezone', {a}.timezone,"
            f" 'digest_opt_out', {a}.digest_opt_out, 'locale', {a}.locale,"
            f" 'email_verified', {a}.email_verified_at IS NOT NULL,"
            f" 'created_at', {iso(f'{a}.created_at')},"
            f" 'updated_at', {iso(f'{a}.updated_at')})")


def etag_sql(json_expr: str) -> str:
    """The strong ETag the API serves for an entity, computed by Postgres from its JSON.

    An entity's ETag is the first 128 bits of the SHA-256 of its canonical JSON text, which is
    Postgres' ``jsonb`` text (``shared.http.preconditions.entity_etag`` computes the same in Python), so a
    write statement can check ``If-Match`` itself, inside the one statement that writes.
    """
    return f"""('"' || left(encode(sha256(convert_to(({json_expr})::text, 'UTF8')), 'hex'), 32) || '"')"""


# Revocation that bites on writes (issue 13): the caller's sign-in (the access token's ``sid``, a
# refresh family) must still be live, checked inside the write statement itself (one primary-key
# probe, no extra round trip). After logout-all or a password change the old access token still
# reads until it expires, but its writes change nothing and answer 401. A token without ``sid``
# (minted outside a sign-in) is not checked. Write statements start ``WITH {LIVE_SESSION}, …``, gate
# every data-modifying CTE on ``LIVE`` and return ``{LIVE} AS live``.
LIVE_SESSION = ("live AS (SELECT %(sid)s::uuid IS NULL OR EXISTS (SELECT 1 FROM refresh_families f"
                " WHERE f.id = %(sid)s::uuid AND f.user_id = %(owner_id)s AND f.revoked_at IS NULL) AS ok)")
LIVE = "(SELECT ok FROM live)"


def session_params() -> dict[str, Any]:
    """The ``sid`` parameter of ``LIVE_SESSION``: the authenticated caller's sign-in, if any."""
    from shared.core import context

    return {"sid": context.session_id.get()}


# The owner's open WebSocket connections, read by the write statement itself, so the fan-out that
# follows a write needs no second round trip (``u`` is the owner's ``users`` row).
LIVE_CONNECTIONS = ("(SELECT coalesce(array_agg(c.connection_id ORDER BY c.connected_at), ARRAY[]::text[])"
                    " FROM ws_connections c WHERE c.user_id = u.id AND c.expires_at > now()) AS connections")

# RETURNING list of an INSERT INTO changes: the change as the rest of the system sees it.
CHANGE_RETURNING = (
    "RETURNING data, jsonb_build_object('entity', entity, 'entity_id', entity_id, 'op', op,"
    f" 'version', version, 'data', data, 'created_at', {iso('created_at')}) AS change"
)


@dataclass(frozen=True)
class WriteResult:
    """What one write statement did.

    ``status``: ``revoked`` (the caller's sign-in is no longer live: nothing written),
    ``applied`` (row changed, version bumped, change logged), ``unchanged`` (the values
    were already those; nothing bumped), ``not_found`` (no such row for this owner; nothing bumped),
    ``stale`` (``if_unmodified_since`` was older than the stored ``updated_at``; nothing written).
    ``entity`` is the row's public JSON after the statement (None when deleted or missing),
    ``sync_version`` the owner's version after it, ``change`` the appended ``changes`` row (applied
    only) plus ``username`` (for cache keys) and ``connections`` (the owner's open WebSocket
    connections, for the fan-out), which is what ``shared.sync.notify.after_write`` takes.
    """

    status: WriteStatus
    entity: Row | None
    sync_version: int | None
    change: Row | None = None
    conflict: Row | None = None  # stale only, when the statement recorded the refusal as a conflict
    lost_fields: tuple[str, ...] = ()  # profile operations: the fields a later write kept
    previous: Row | None = None  # applied only: the row's public JSON before the statement (None: created)
    goal_reached: bool = False  # a skill write whose level change reached the skill's goal (issue 17)


def write_result(row: Row | None) -> WriteResult:
    """Interpret the final SELECT every write statement ends with.

    Columns: ``sync_version``, ``username``, ``entity`` (new JSON, applied only), ``change``,
    ``current`` (JSON before the statement) and ``stale``.
    """
    if row is None:  # the owner itself is gone
        return WriteResult("not_found", None, None)
    if row.get("live") is False:  # the caller's sign-in was revoked: nothing was written
        return WriteResult("revoked", None, row["sync_version"])
    change = row["change"]
    if change is not None:
        extra = {"username": row["username"], "connections": row.get("connections")}
        return WriteResult("applied", row["entity"], row["sync_version"], {**change, **extra},
                           previous=row.get("current"), goal_reached=bool(row.get("goal_reached")))
    if row["current"] is None:
        return WriteResult("not_found", None, row["sync_version"])
    if row["stale"]:
        conflict = row.get("conflict_change")
        if conflict is not None:
            conflict = {**conflict, "username": row["username"], "connections": row.get("connections")}
        return WriteResult("stale", row["current"], row["sync_version"], conflict=conflict)
    return WriteResult("unchanged", row["current"], row["sync_version"])
