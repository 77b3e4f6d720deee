"""IANA zone validation for the API edge."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shared.models.timezones import TimeZoneName


class Prefs(BaseModel):
    timezone: TimeZoneName


@pytest.mark.parametrize("name", ["UTC", "Asia/Tokyo", "America/New_York", "Asia/Kolkata", "Europe/Lisbon"])
def test_iana_names_pass(name):
    assert Prefs(timezone=name).timezone == name


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "asia/tokyo", "+09:00", "../../etc/passwd", "Asia/Tokyo "])
def test_anything_else_is_rejected(name):
    with pytest.raises(ValidationError):
        Prefs(timezone=name)
