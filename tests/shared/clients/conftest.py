"""Fixtures for the rotation tests in this folder."""

from tests.support.secrets import secret  # noqa: F401 - fixture
