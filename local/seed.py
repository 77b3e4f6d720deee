"""Seed the local database with a demo user and a few skills (idempotent)."""

from __future__ import annotations

from typing import Any

from shared.identity.passwords import hash_password
from shared.repositories.skills import create_skill

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@atribuo.local"
DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - local stack only; never seeded anywhere else
DEMO_SKILLS = [
    # categories are the fixed slugs of shared/models/categories.py
    ("Python", "programming", 7, "Backend services and tooling"),
    ("SQL", "programming", 6, "Postgres, mostly"),
    ("Guitar", "music", 4, "Fingerstyle"),
    ("Spanish", "languages", 3, "Conversational"),
    ("Running", "fitness", 5, "Half-marathon pace"),
    ("Cooking", "life", 6, "Weeknight dinners"),
    ("Chess", "mind", 4, "Rapid, online"),
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
        # verified: the demo address stands for one proven by its link, so `make digest` mails the demo
        conn.execute("UPDATE users SET bio = %s, email_verified_at = now() WHERE id = %s",
                     ("A demo character seeded by make dev.", row["id"]))
        for name, category, level, description in DEMO_SKILLS:
            # the real write path: history row, sync version and change log, as for any client write
            create_skill(conn, row["id"], name=name, category=category, level=level, description=description,
                         note="seeded")
    return True
