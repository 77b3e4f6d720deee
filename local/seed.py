"""Seed the local database with a demo user and a few skills (idempotent)."""

from __future__ import annotations

from typing import Any

from shared.passwords import hash_password

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@atribuo.local"
DEMO_PASSWORD = "demo-password-123"  # local stack only; never seeded anywhere else
DEMO_SKILLS = [
    ("Python", "Programming", 7, "Backend services and tooling"),
    ("SQL", "Programming", 6, "Postgres, mostly"),
    ("Guitar", "Music", 4, "Fingerstyle"),
    ("Spanish", "Languages", 3, "Conversational"),
    ("Running", "Fitness", 5, "Half-marathon pace"),
    ("Cooking", "Life", 6, "Weeknight dinners"),
]


def seed(conn: Any) -> bool:
    """Create the demo user and skills unless the user exists; True when something was created.

    The user goes through ``shared.repositories.users.create_user``, the same statement registration
    uses, so the seed cannot drift from what the API writes.
    """
    from shared.repositories.users import create_user, get_credentials

    if get_credentials(conn, DEMO_USERNAME) is not None:
        return False
    with conn.transaction():
        row = create_user(conn, username=DEMO_USERNAME, email=DEMO_EMAIL, password_hash=hash_password(DEMO_PASSWORD),
                          display_name="Demo Adventurer")
        conn.execute("UPDATE users SET bio = %s WHERE id = %s", ("A demo character seeded by make dev.", row["id"]))
        for name, category, level, description in DEMO_SKILLS:
            conn.execute(
                "WITH s AS (INSERT INTO skills (owner_id, name, category, level, description)"
                " VALUES (%(o)s, %(n)s, %(c)s, %(l)s, %(d)s) RETURNING id, owner_id, level)"
                " INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, note)"
                " SELECT id, owner_id, NULL, level, 'seeded' FROM s",
                {"o": row["id"], "n": name, "c": category, "l": level, "d": description},
            )
    return True
