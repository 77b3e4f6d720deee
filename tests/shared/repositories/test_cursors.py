"""Opaque cursors round-trip, and anything else is a 422 naming query.cursor (never a DB error)."""

from __future__ import annotations

import uuid

import pytest

from shared.core.errors import ValidationFailedError
from shared.repositories.cursors import decode_cursor, encode_cursor, page


def test_round_trip():
    row_id = uuid.uuid4()
    assert decode_cursor(encode_cursor("name", "chess", row_id), "name", str, uuid.UUID) == ("chess", row_id)
    assert decode_cursor(None, "name", str, uuid.UUID) == (None, None)


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_cursor("level", 3, uuid.uuid4()),
                                    encode_cursor("name", "x", "not-a-uuid")])
def test_bad_cursors_are_422(cursor):
    with pytest.raises(ValidationFailedError) as err:
        decode_cursor(cursor, "name", str, uuid.UUID)
    assert err.value.details[0]["field"] == "query.cursor"


def test_page_uses_the_extra_row_only_to_know_there_is_more():
    rows = [{"item": {"id": i}, "k": i} for i in range(4)]
    result = page(rows, 3, "level")
    assert [i["id"] for i in result["items"]] == [0, 1, 2]
    assert decode_cursor(result["next_cursor"], "level", int, int) == (2, 2)
    assert page(rows[:3], 3, "level")["next_cursor"] is None
