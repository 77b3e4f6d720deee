"""Test users: the one password every test user has (hashed once per session by a fixture)."""

TEST_PASSWORD = "correct horse battery"
