"""`shortest_float32`: a 32-bit float (Oracle BINARY_FLOAT, PostgreSQL real) as the decimal
people wrote, not its widened double.

The shortest decimal that reads back as the same binary32 is what Java's
``Float.toString`` prints (its Javadoc: "as many, but only as many, more digits
as are needed to uniquely distinguish the argument value from adjacent values
of type float"), which Debezium's JSON carries for a float32 field
(AbstractOracleDatatypesTest: BINARY_FLOAT 1.1f), and what PostgreSQL prints
for real since 12 (extra_float_digits = 1: "shortest-precise format").
"""

from __future__ import annotations

import math
import random
import struct

import pytest

from cdc_sync.events.values import shortest_float32


def f32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


@pytest.mark.parametrize(
    ("widened", "shortest"),
    [
        (0.10000000149011612, 0.1),  # the example
        (1.100000023841858, 1.1),  # Debezium's BINARY_FLOAT 1.1f
        (f32(2.22), 2.22),
        (f32(3.4028234663852886e38), 3.4028235e38),  # Float.MAX_VALUE prints 3.4028235E38
        (f32(16777217.0), 16777216.0),  # 2**24 + 1 has no float32: 2**24
        (5.0, 5.0),
        (-0.25, -0.25),
        (0.0, 0.0),
    ],
)
def test_known_values(widened: float, shortest: float) -> None:
    assert shortest_float32(widened) == shortest


def test_the_result_is_the_same_float32_in_the_fewest_digits() -> None:
    rng = random.Random(16)
    for _ in range(20_000):
        value = f32(struct.unpack("f", rng.randbytes(4))[0])
        if not math.isfinite(value):
            continue
        result = shortest_float32(value)
        assert f32(result) == value
        digits = len(f"{result:.9e}".split("e")[0].replace("-", "").replace(".", "").rstrip("0"))
        shorter = f"{value:.{max(digits - 2, 0)}e}"  # one significant digit fewer
        assert digits == 1 or f32(float(shorter)) != value, (value, result)


def test_not_finite_values_are_returned_as_they_are() -> None:
    assert math.isnan(shortest_float32(math.nan))
    assert shortest_float32(math.inf) == math.inf and shortest_float32(-math.inf) == -math.inf
    assert math.copysign(1, shortest_float32(-0.0)) == -1
