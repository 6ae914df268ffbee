"""BINARY_FLOAT (Connect FLOAT32): the same number through JSON and through Avro.

Debezium's Oracle connector types BINARY_FLOAT as FLOAT32 and hands over a Java
``float`` (oracle.adoc, "Mappings for Oracle numeric data types": ``BINARY_FLOAT`` →
``FLOAT32``; AbstractOracleDatatypesTest.java:160 expects ``VAL_BF`` = ``1.1f`` for the
inserted ``1.1``). Kafka Connect's JsonConverter writes that float as ``1.1``; an Avro
reader widens the binary32 to a double, ``1.100000023841858``. Both must index the
shortest decimal that reads back as the same binary32: ``1.1``.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import pytest

from cdc_sync.events.decode import decode_record
from cdc_sync.events.values import shortest_float32
from tests.unit.test_events_avro import reader, wire


def widened(value: float) -> float:
    """What a reader of an IEEE-754 binary32 gets as a Python float (a double)."""
    single: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return single


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # AbstractOracleDatatypesTest.java:160 (VAL_BF = 1.1f), as Avro widens it
        (widened(1.1), 1.1),
        (1.1, 1.1),  # as JsonConverter spells it: already the shortest form
        (widened(0.1), 0.1),
        (widened(-2.5), -2.5),
        # Java SE API, Float.MAX_VALUE: 0x1.fffffeP+127f = 3.4028235e+38f
        (widened(3.4028235e38), 3.4028235e38),
        # Java SE API, Float.MIN_NORMAL: 0x1.0p-126f = 1.17549435E-38f
        (widened(1.17549435e-38), 1.1754944e-38),
        # Java SE API, Float.MIN_VALUE: 0x0.000002P-126f ≈ 1.4e-45f; one digit reads back
        (widened(1.4e-45), 1e-45),
        # 2**24 + 1 is not a binary32: the nearest one is 2**24
        (16777217.0, 16777216.0),
        (widened(123456.789), 123456.79),
        (0.0, 0.0),
    ],
)
def test_shortest_decimal_that_reads_back_as_the_same_float32(
    value: float, expected: float
) -> None:
    got = shortest_float32(value)
    assert got == expected and repr(got) == repr(expected)
    assert widened(got) == widened(value)  # the same binary32
    assert shortest_float32(got) == got  # idempotent: JSON's spelling is kept


def test_negative_zero_and_non_finite_values_stay() -> None:
    assert math.copysign(1.0, shortest_float32(-0.0)) == -1.0
    assert shortest_float32(math.inf) == math.inf
    assert math.isnan(shortest_float32(math.nan))


def test_a_double_beyond_float32_is_refused() -> None:
    with pytest.raises(ValueError, match="float32"):
        shortest_float32(1e39)


KEY_SCHEMA = {"type": "record", "name": "Key", "fields": [{"name": "ID", "type": "long"}]}
ROW_SCHEMA = {
    "type": "record",
    "name": "Value",
    "fields": [
        {"name": "ID", "type": "long"},
        {"name": "VAL_BF", "type": ["null", "float"], "default": None},
    ],
}
ENVELOPE_SCHEMA = {
    "type": "record",
    "name": "Envelope",
    "fields": [
        {"name": "before", "type": ["null", ROW_SCHEMA], "default": None},
        {"name": "after", "type": ["null", "Value"], "default": None},
        {"name": "op", "type": "string"},
    ],
}


def _float32_avro_record(value: float) -> tuple[bytes, bytes]:
    datum = {"before": None, "after": {"ID": 1, "VAL_BF": value}, "op": "c"}
    return wire(8, KEY_SCHEMA, {"ID": 1}), wire(7, ENVELOPE_SCHEMA, datum)


def _float32_json_record(value: Any) -> tuple[bytes, bytes]:
    # Kafka Connect's JsonConverter names the FLOAT32 schema type "float" (JsonSchema)
    fields = [{"type": "int64", "field": "ID"}, {"type": "float", "field": "VAL_BF"}]
    row = {"type": "struct", "optional": True, "fields": fields}
    schema = {
        "type": "struct",
        "fields": [{**row, "field": "before"}, {**row, "field": "after"}],
    }
    payload = {"before": None, "after": {"ID": 1, "VAL_BF": value}, "op": "c"}
    return b'{"ID": 1}', json.dumps({"schema": schema, "payload": payload}).encode()


@pytest.mark.parametrize("value", [1.1, 0.1, 3.4028235e38, 123456.79, -7.0e-10])
def test_json_and_avro_give_the_same_binary_float(value: float) -> None:
    schemas = {7: json.dumps(ENVELOPE_SCHEMA), 8: json.dumps(KEY_SCHEMA)}
    from_avro = decode_record(*_float32_avro_record(value), avro=reader(schemas))
    from_json = decode_record(*_float32_json_record(value))
    assert from_avro.after == from_json.after == {"ID": 1, "VAL_BF": value}


def test_the_result_is_the_same_float32_in_the_fewest_digits() -> None:
    """Java's ``Float.toString`` Javadoc: "as many, but only as many, more digits as are
    needed to uniquely distinguish the argument value from adjacent values of type float";
    PostgreSQL prints real the same way since 12 (extra_float_digits = 1)."""
    import random

    rng = random.Random(16)
    for _ in range(20_000):
        value = widened(struct.unpack("<f", rng.randbytes(4))[0])
        if not math.isfinite(value):
            continue
        result = shortest_float32(value)
        assert widened(result) == value
        digits = len(f"{result:.9e}".split("e")[0].replace("-", "").replace(".", "").rstrip("0"))
        shorter = f"{value:.{max(digits - 2, 0)}e}"  # one significant digit fewer
        assert digits == 1 or widened(float(shorter)) != value, (value, result)
