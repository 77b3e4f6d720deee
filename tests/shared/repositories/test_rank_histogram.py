"""The rank histogram (migration 021) on real Postgres: after every kind of write it equals a recount
of the listed entries of skill_scores, shard by shard, and keeps no empty rows."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from shared.clients import db
from shared.repositories import skills as repo
from tests.shared.repositories.test_scores import set_visibility


def stored() -> Counter[tuple[str, int, int]]:
    rows = db.get_conn().execute("SELECT category, score, shard, users FROM skill_score_counts").fetchall()
    assert all(r["users"] > 0 for r in rows), rows  # rows left at 0 users are deleted
    return Counter({(r["category"], r["score"], r["shard"]): r["users"] for r in rows})


def recounted() -> Counter[tuple[str, int, int]]:
    """The listed entries of skill_scores (the board index's rows), counted here in Python."""
    rows = db.get_conn().execute(
        "SELECT category, score, skill_score_shard(owner_id) AS shard FROM skill_scores WHERE public").fetchall()
    return Counter((r["category"], r["score"], r["shard"]) for r in rows)


def opt_out(user_id: Any, value: str) -> None:
    db.get_conn().execute(
        "UPDATE users SET privacy_settings = privacy_settings || jsonb_build_object('leaderboard', %s::text)"
        " WHERE id = %s", (value, user_id))


def test_histogram_equals_a_recount_after_a_mixed_workload(make_user):
    conn = db.get_conn()
    users = [make_user(f"user{i}")[0] for i in range(8)]
    skills: dict[int, list[str]] = {}
    for i, user in enumerate(users):  # many ties: levels repeat across users, so rows hold several users
        skills[i] = [repo.create_skill(conn, user["id"], name=f"S{j}", category=("music", "art")[j % 2],
                                       level=1 + (i + j) % 3).entity["id"] for j in range(3)]
    assert stored() == recounted() and max(stored().values()) > 1
    assert sum(n for (c, _, _), n in stored().items() if c == "") == len(users)

    repo.update_skill(conn, users[0]["id"], uuid.UUID(skills[0][0]), {"level": 9})  # a level change
    repo.update_skill(conn, users[1]["id"], uuid.UUID(skills[1][1]), {"category": "music"})  # moves board
    repo.update_skill(conn, users[2]["id"], uuid.UUID(skills[2][2]), {"name": "Renamed"})  # no score change
    assert stored() == recounted()
    repo.delete_skill(conn, users[3]["id"], uuid.UUID(skills[3][1]))  # empties user3's art board
    assert stored() == recounted()
    conn.execute("UPDATE skills SET level = level + 1 WHERE level < 3")  # many owners in one statement
    assert stored() == recounted()
    set_visibility(users[4]["id"], "private")  # privacy flip: off every board
    opt_out(users[5]["id"], "hidden")  # leaderboard opt-out: off every board, profile still public
    assert stored() == recounted()
    assert not any(r["public"] for r in conn.execute(
        "SELECT public FROM skill_scores WHERE owner_id = ANY(%s)", ([users[4]["id"], users[5]["id"]],)))
    before = stored()
    conn.execute("UPDATE users SET username = 'renamed6' WHERE id = %s", (users[6]["id"],))  # username change
    assert stored() == recounted() == before  # nothing to count differently
    repo.create_skill(conn, users[4]["id"], name="Hidden", category="music", level=5)  # a private user's write
    assert stored() == recounted()
    set_visibility(users[4]["id"], "public")
    opt_out(users[5]["id"], "listed")
    assert stored() == recounted()
    conn.execute("DELETE FROM users WHERE id = ANY(%s)", ([users[0]["id"], users[7]["id"]],))  # account deletion
    assert stored() == recounted()
    conn.execute("DELETE FROM skills WHERE owner_id = %s", (users[2]["id"],))  # a user left with no skills
    assert stored() == recounted()
    assert sum(n for (c, _, _), n in stored().items() if c == "") == len(users) - 3


def test_rebuild_recounts_a_drifted_histogram(make_user):
    conn = db.get_conn()
    alice, _ = make_user("alice")
    repo.create_skill(conn, alice["id"], name="Python", category="programming", level=3)
    conn.execute("UPDATE skill_score_counts SET users = users + 5")
    conn.execute("SELECT skill_scores_rebuild()")
    assert stored() == recounted() == Counter({(c, 3, recounted_shard(alice["id"])): 1 for c in ("", "programming")})


def recounted_shard(owner_id: Any) -> int:
    return db.get_conn().execute("SELECT skill_score_shard(%s) AS s", (owner_id,)).fetchone()["s"]
