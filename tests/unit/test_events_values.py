from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from cdc_sync.events.values import DROP, UnconvertibleValue, row_to_json, to_json_value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        ("text", "text"),
        (5, 5),
        (2**70, str(2**70)),
        (1.5, 1.5),
        (Decimal("10"), 10),
        (Decimal("10.000"), 10),
        (Decimal("12.25"), 12.25),
        (Decimal("0.1"), 0.1),
        (Decimal("123456789012345678.123456789"), "123456789012345678.123456789"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        (dt.datetime(2024, 2, 29, 13, 5, 1, 250000), "2024-02-29T13:05:01.250000"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "2024-01-01T00:00:00+00:00"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ({"a": Decimal("1")}, {"a": 1}),
    ],
)
def test_values(value: object, expected: object) -> None:
    assert to_json_value(value) == expected
    assert to_json_value(to_json_value(value)) == expected  # idempotent


def test_lossy_decimals_can_be_floats() -> None:
    value = Decimal("123456789012345678.123456789")
    assert isinstance(to_json_value(value, decimals="float"), float)


def test_binary_is_dropped_or_base64() -> None:
    assert to_json_value(b"\x00\x01") is DROP
    assert to_json_value(b"\x00\x01", binary="base64") == "AAE="
    assert row_to_json({"ID": 1, "PHOTO": b"x"}) == {"ID": 1}


def test_lob_handles_are_read() -> None:
    class Lob:
        def read(self) -> str:
            return "long text"

    assert to_json_value(Lob()) == "long text"


@pytest.mark.parametrize("value", [float("nan"), Decimal("Infinity"), object()])
def test_unconvertible(value: object) -> None:
    with pytest.raises(UnconvertibleValue):
        to_json_value(value)
