from __future__ import annotations

from decimal import Decimal

import pytest

from cdc_sync.documents.ids import PREFIX, InvalidKey, document_id, key_values


@pytest.mark.parametrize("value", [42, "abc", "A-b_9", Decimal("7"), 7.0])
def test_valid_single_keys_pass_through(value: object) -> None:
    assert document_id([value]) == str(int(value) if isinstance(value, Decimal | float) else value)


@pytest.mark.parametrize(
    "values",
    [["a b"], ["ü"], ["x/y"], [1, "x"], ["a", "b"], [PREFIX + "abc"], ["é" * 100]],
)
def test_other_keys_are_encoded_reversibly(values: list[object]) -> None:
    doc_id = document_id(values)
    assert doc_id.startswith(PREFIX)
    assert all(c.isalnum() or c in "-_" for c in doc_id)
    assert key_values(doc_id) == values
    assert document_id(values) == doc_id  # deterministic


def test_encoded_ids_never_collide_with_plain_ones() -> None:
    plain = document_id(["abc"])
    encoded = document_id([1, "abc"])
    assert document_id([encoded]) != encoded  # a key that looks encoded is itself encoded
    assert len({plain, encoded, document_id([encoded])}) == 3


def test_composite_parts_keep_their_types() -> None:
    assert document_id([1, 2]) != document_id(["1", "2"])


@pytest.mark.parametrize("values", [[], [None], [True], ["x" * 600]])
def test_unusable_keys_raise(values: list[object]) -> None:
    with pytest.raises(InvalidKey):
        document_id(values)


def test_temporal_key_parts_match_their_iso_strings() -> None:
    import datetime as dt

    moment = dt.datetime(2024, 3, 1, 10, 15, 30)
    assert document_id([moment, 1]) == document_id([moment.isoformat(), 1])
