"""The local seed: creates the demo user through the users repository, once."""

from __future__ import annotations

from functions.auth.app import handler
from local.seed import DEMO_PASSWORD, DEMO_USERNAME, seed
from shared import db
from tests.support import http_event, invoke


def test_seed_is_idempotent_and_the_demo_user_can_sign_in():
    conn = db.get_conn()
    assert seed(conn) is True
    assert seed(conn) is False
    counts = conn.execute("SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM skills) AS skills,"
                          " (SELECT bio FROM users) AS bio").fetchone()
    assert counts["users"] == 1 and counts["skills"] == 6 and counts["bio"]
    response = invoke(handler, http_event("POST", "/api/v1/auth/login",
                                          body={"username": DEMO_USERNAME, "password": DEMO_PASSWORD}))
    assert response.status == 200, response
