"""IANA time zone names, validated at the API edge (the digest goes out at the user's local 08:00).

``TimeZoneName`` is a pydantic type for request models (e.g. a profile update's ``timezone``).
The zone list comes from the ``tzdata`` package, so it is the same in Lambda as on a laptop.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator

from shared.core.i18n import N_


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def validate_timezone(name: str) -> str:
    """``name`` if it is an IANA zone ("Asia/Tokyo"); ValueError otherwise (pydantic makes it a 422)."""
    if name not in known_zones():
        raise ValueError(N_("not an IANA time zone name, e.g. 'Europe/Lisbon'"))
    return name


TimeZoneName = Annotated[str, AfterValidator(validate_timezone)]
