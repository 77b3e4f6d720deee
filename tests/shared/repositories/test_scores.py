"""Maintained leaderboard scores (migration 011) on real Postgres: exact after every kind of write,
ranks and ties, privacy. (Their plans at size: test_plans.py.)"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from shared.clients import db
from shared.repositories import profiles
from shared.repositories import skills as repo


def stored() -> dict[tuple[str, str], tuple[int, int, str, bool]]:
    rows = db.get_conn().execute("SELECT * FROM skill_scores").fetchall()
    return {(str(r["owner_id"]), r["category"]): (r["score"], r["skill_count"], r["username"], r["public"])
            for r in rows}


def recomputed() -> dict[tuple[str, str], tuple[int, int, str, bool]]:
    """The same numbers from the skills themselves, added up here in Python."""
    rows = db.get_conn().execute(
        "SELECT s.owner_id, s.category, s.level, u.username,"
        " u.privacy_settings->>'profile_visibility' = 'public' AS public"
        " FROM skills s JOIN users u ON u.id = s.owner_id").fetchall()
    sums: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, 0, "", False])
    for r in rows:
        for board in (r["category"], ""):
            entry = sums[(str(r["owner_id"]), board)]
            entry[0] += r["level"]
            entry[1] += 1
            entry[2:] = [r["username"], bool(r["public"])]
    return {key: tuple(value) for key, value in sums.items()}


def set_visibility(user_id: Any, visibility: str) -> None:
    db.get_conn().execute(
        "UPDATE users SET privacy_settings = privacy_settings || jsonb_build_object('profile_visibility', %s::text)"
        " WHERE id = %s", (visibility, user_id))


def test_scores_stay_exact_through_every_kind_of_skill_write(make_user):
    conn = db.get_conn()
    alice, _ = make_user("alice")
    bob, _ = make_user("bob")
    a1 = repo.create_skill(conn, alice["id"], name="Python", category="programming", level=3).entity
    a2 = repo.create_skill(conn, alice["id"], name="Piano", category="music", level=4).entity
    repo.create_skill(conn, bob["id"], name="Go", category="programming", level=9)
    assert stored() == recomputed() and stored()[(str(alice["id"]), "")][:2] == (7, 2)
    repo.update_skill(conn, alice["id"], uuid.UUID(a1["id"]), {"level": 8})  # a level-up
    repo.update_skill(conn, alice["id"], uuid.UUID(a2["id"]), {"category": "art", "level": 5})  # moves board
    repo.update_skill(conn, alice["id"], uuid.UUID(a2["id"]), {"name": "Painting"})  # no score change
    repo.update_skill(conn, bob["id"], uuid.UUID(a1["id"]), {"level": 1})  # another owner's: nothing
    assert stored() == recomputed()
    assert (str(alice["id"]), "music") not in stored()  # a board left empty loses its row
    repo.delete_skill(conn, alice["id"], uuid.UUID(a2["id"]))
    assert stored() == recomputed() and (str(alice["id"]), "art") not in stored()
    # Several rows in one statement (as a bulk load or a cascade would) fold into one delta.
    conn.execute("UPDATE skills SET level = level + 1 WHERE level < 10")
    assert stored() == recomputed()
    set_visibility(alice["id"], "private")
    assert stored() == recomputed() and not stored()[(str(alice["id"]), "")][3]
    set_visibility(alice["id"], "public")
    assert stored() == recomputed()
    conn.execute("DELETE FROM users WHERE id = %s", (bob["id"],))  # the cascade takes its skills
    assert stored() == recomputed() and all(owner != str(bob["id"]) for owner, _ in stored())


def test_rebuild_repairs_and_agrees_with_the_triggers(make_user):
    conn = db.get_conn()
    alice, _ = make_user("alice")
    repo.create_skill(conn, alice["id"], name="Python", category="programming", level=3)
    conn.execute("UPDATE skill_scores SET score = 99")
    conn.execute("SELECT skill_scores_rebuild()")
    assert stored() == recomputed()


def test_board_ranks_ties_by_username_and_shows_public_profiles_only(make_user):
    conn = db.get_conn()
    levels = {"dora": 5, "carol": 7, "bob": 7, "alice": 9, "eve": 9}
    for name, level in levels.items():
        user, _ = make_user(name)
        repo.create_skill(conn, user["id"], name="Chess", category="mind", level=level)
        repo.create_skill(conn, user["id"], name="Go", category="programming", level=1)
        if name == "eve":
            set_visibility(user["id"], "private")
    board = profiles.leaderboard(conn, None, limit=10)
    assert [(r["rank"], r["username"], r["score"], r["total_level"]) for r in board] == [
        (1, "alice", 10, 10), (2, "bob", 8, 8), (2, "carol", 8, 8), (4, "dora", 6, 6)]
    mind = profiles.leaderboard(conn, "mind", limit=3)
    assert [(r["rank"], r["username"], r["score"], r["skill_count"], r["total_level"]) for r in mind] == [
        (1, "alice", 9, 1, 10), (2, "bob", 7, 1, 8), (2, "carol", 7, 1, 8)]
    assert profiles.leaderboard(conn, "music", limit=3) == []
