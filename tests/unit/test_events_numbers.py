"""Golden numbers: the same digits come out as went in, in every capture mode.

Each row of GOLDEN is a source number (as a database hands it over: a Decimal)
and the value its document must hold. A JSON integer or float where that is the
same number in Meilisearch, otherwise the exact digits as a string, never in
exponent form. ``verify`` maps source and index the same way, so it cannot see
a rounding; these tests look at the documents themselves.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest

from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import Upsert, document_for_row, operation_for_event
from cdc_sync.documents.numbers import Exact
from cdc_sync.events.decode import decode_record
from cdc_sync.events.encode import encode_key, encode_value
from cdc_sync.events.model import ChangeEvent
from cdc_sync.events.values import decimal_to_json, row_to_json

NINES_38 = "9" * 38
GOLDEN: list[tuple[str, Any]] = [
    # the examples
    ("0.333333333333333333333333333333333", "0.333333333333333333333333333333333"),
    ("123456789012345678901234567890.123456", "123456789012345678901234567890.123456"),
    ("-999999999999999999999999999999.99", "-999999999999999999999999999999.99"),
    ("0.000000012345678901234567891", "0.000000012345678901234567891"),
    # 38-digit NUMBERs
    (NINES_38, NINES_38),
    ("-" + NINES_38, "-" + NINES_38),
    ("1234567890123456789012345678.9012345678", "1234567890123456789012345678.9012345678"),
    ("0." + NINES_38, "0." + NINES_38),
    # long fractions
    ("123456789.123456789", "123456789.123456789"),
    ("0.1234567890123456789", "0.1234567890123456789"),
    ("1.500", 1.5),
    # negative scale (NUMBER(p,-s)): integral
    ("1.23E+4", 12300),
    ("1.23E+40", "12300000000000000000000000000000000000000"),
    # Oracle NUMBER's extremes and the 64-bit edges
    (
        "9.9999999999999999999999999999999999999E+125",
        "99999999999999999999999999999999999999" + "0" * 88,
    ),
    (
        "-9.9999999999999999999999999999999999999E+125",
        "-99999999999999999999999999999999999999" + "0" * 88,
    ),
    ("1E-130", 1e-130),  # a float holds it: the same number (JSON may spell it 1e-130)
    ("-1E-130", -1e-130),
    (
        "1.0000000000000000000000000000000000001E-130",
        "0." + "0" * 129 + "10000000000000000000000000000000000001",
    ),
    # integers: numbers while a 64-bit float holds them (Meilisearch filters and sorts so)
    ("9007199254740992", 9007199254740992),
    ("-9007199254740992", -9007199254740992),
    ("9007199254740993", "9007199254740993"),
    ("9223372036854775807", "9223372036854775807"),
    ("-9223372036854775808", "-9223372036854775808"),
    # what a float holds exactly stays a number
    ("0", 0),
    ("-0.0", 0),
    ("10.000", 10),
    ("0.1", 0.1),
    ("12.25", 12.25),
    ("-3.14159265358979", -3.14159265358979),
    ("0.00000000015", 1.5e-10),
    ("1E+2", 100),
]

TABLE = TableSettings.model_validate({"name": "N", "primary_key": ["ID"]})


def exact(found: Any, expected: Any) -> bool:
    """Equal value and equal JSON type (1 is not 1.0 is not "1"; a float may be `Exact`)."""
    kind = float if isinstance(found, Exact) else type(found)
    return kind is type(expected) and found == expected


def same_number(found: Any, expected: Any) -> bool:
    """Schema-less JSON cannot tell 10.000 from 10.0: any JSON number of the same value."""
    if isinstance(expected, str):
        return exact(found, expected)
    return isinstance(found, int | float) and not isinstance(found, bool) and found == expected


def debezium_decimal(text: str) -> tuple[str, int]:
    """A Connect Decimal's base64 unscaled bytes and scale for the number."""
    sign, digits, exponent = Decimal(text).as_tuple()
    assert isinstance(exponent, int)
    unscaled = int("".join(map(str, digits))) * (-1 if sign else 1)
    size = max(1, (unscaled.bit_length() + 8) // 8)
    return base64.b64encode(unscaled.to_bytes(size, "big", signed=True)).decode(), -exponent


def document_value(key: bytes, value: bytes) -> Any:
    op = operation_for_event(TABLE, decode_record(key, value))
    assert isinstance(op, Upsert)
    return op.document["n"]


@pytest.mark.parametrize(("source", "expected"), GOLDEN)
def test_decimal_to_json(source: str, expected: Any) -> None:
    assert exact(decimal_to_json(Decimal(source)), expected)


@pytest.mark.parametrize(("source", "expected"), GOLDEN)
def test_bootstrap_and_verify_rows(source: str, expected: Any) -> None:
    op = document_for_row(TABLE, {"ID": 1, "N": Decimal(source)})
    assert isinstance(op, Upsert)
    assert exact(op.document["n"], expected)


@pytest.mark.parametrize(("source", "expected"), GOLDEN)
def test_relay_events(source: str, expected: Any) -> None:
    after = row_to_json({"ID": 1, "N": Decimal(source)})
    event = ChangeEvent(op="c", key={"ID": 1}, after=after, table="N", change_id=1)
    assert exact(document_value(encode_key({"ID": 1}), encode_value(event, 0)), expected)


def _schema_envelope(field: dict[str, Any], value: Any) -> bytes:
    schema = {
        "type": "struct",
        "name": "server.APP.N.Envelope",
        "fields": [
            {
                "type": "struct",
                "optional": True,
                "field": "after",
                "fields": [{"type": "int64", "field": "ID"}, {**field, "field": "N"}],
            },
            {"type": "string", "field": "op"},
        ],
    }
    payload = {"after": {"ID": 1, "N": value}, "op": "c"}
    return json.dumps({"schema": schema, "payload": payload}).encode()


@pytest.mark.parametrize(("source", "expected"), GOLDEN)
def test_debezium_json_decimal(source: str, expected: Any) -> None:
    unscaled, scale = debezium_decimal(source)
    field = {
        "type": "bytes",
        "optional": True,
        "name": "org.apache.kafka.connect.data.Decimal",
        "parameters": {"scale": str(scale)},
    }
    assert exact(document_value(b'{"ID":1}', _schema_envelope(field, unscaled)), expected)


@pytest.mark.parametrize(("source", "expected"), GOLDEN)
def test_debezium_json_variable_scale_decimal(source: str, expected: Any) -> None:
    unscaled, scale = debezium_decimal(source)
    field = {
        "type": "struct",
        "optional": True,
        "name": "io.debezium.data.VariableScaleDecimal",
        "fields": [
            {"type": "int32", "field": "scale"},
            {"type": "bytes", "field": "value"},
        ],
    }
    value = {"scale": scale, "value": unscaled}
    assert exact(document_value(b'{"ID":1}', _schema_envelope(field, value)), expected)


def _number_text(source: str) -> str:
    """How a JSON writer spells the number (JsonConverter's decimal.format=NUMERIC: plain)."""
    return format(Decimal(source), "f")


@pytest.mark.parametrize(("source", "expected"), GOLDEN)
def test_debezium_json_numeric_format(source: str, expected: Any) -> None:
    field = {
        "type": "bytes",
        "optional": True,
        "name": "org.apache.kafka.connect.data.Decimal",
        "parameters": {"scale": str(max(0, -Decimal(source).as_tuple().exponent))},  # type: ignore[operator]
    }
    schema_envelope = _schema_envelope(field, 0).replace(
        b'"N": 0', b'"N": ' + _number_text(source).encode()
    )
    assert exact(document_value(b'{"ID":1}', schema_envelope), expected)


@pytest.mark.parametrize(("source", "expected"), GOLDEN)
def test_debezium_json_without_schemas(source: str, expected: Any) -> None:
    value = b'{"before":null,"after":{"ID":1,"N":%s},"source":{"connector":"postgresql"},"op":"c"}'
    assert same_number(document_value(b'{"ID":1}', value % _number_text(source).encode()), expected)


@pytest.mark.parametrize(("source", "expected"), GOLDEN)
def test_flattened_without_schemas(source: str, expected: Any) -> None:
    value = b'{"ID":1,"N":%s,"__deleted":"false"}' % _number_text(source).encode()
    assert same_number(document_value(b'{"ID":1}', value), expected)


@pytest.mark.parametrize(
    "source", ["0.000000012345678901234567891", "123456789.123456789", "0.1", NINES_38]
)
def test_string_fields_keep_the_exact_digits(source: str) -> None:
    table = TableSettings.model_validate(
        {"name": "N", "primary_key": ["ID"], "fields": {"N": {"name": "n", "type": "string"}}}
    )
    op = document_for_row(table, {"ID": 1, "N": Decimal(source)})
    assert isinstance(op, Upsert)
    assert op.document["n"] == source


@pytest.mark.parametrize("source", ["1.5", "0.000000012345678901234567891"])
def test_integer_fields_refuse_to_round(source: str) -> None:
    from cdc_sync.documents.fields import MappingError

    table = TableSettings.model_validate(
        {"name": "N", "primary_key": ["ID"], "fields": {"N": {"name": "n", "type": "integer"}}}
    )
    with pytest.raises(MappingError, match=r"column N \(integer\).*not an integer"):
        document_for_row(table, {"ID": 1, "N": Decimal(source)})


def test_keys_get_the_same_id_from_relay_and_bootstrap() -> None:
    from cdc_sync.documents.ids import document_id

    for source, _ in GOLDEN:
        relay_key = row_to_json({"K": Decimal(source)})["K"]
        assert document_id([relay_key]) == document_id([Decimal(source)]), source
        assert document_id([relay_key, 1]) == document_id([Decimal(source), 1]), source


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        # a double's shortest spelling, as JSON writers emit doubles: read exactly by orjson
        ("142.85714285714286", 142.85714285714286),
        ("-0.30000000000000004", -0.30000000000000004),
        ("1714564800000000", 1714564800000000),  # epoch micros: 16 digits, an integer
        ("1714564800000000000", "1714564800000000000"),  # epoch nanos (past 2**53: digits)
        ("-9223372036854775808", "-9223372036854775808"),
        # what orjson would read as a different number
        ("-9223372036854775809", "-9223372036854775809"),
        ("18446744073709551616", "18446744073709551616"),
        ("0.33333333333333333", "0.33333333333333333"),
        ("1234567890123456.7", "1234567890123456.7"),
        ("1.2345678901234567891e-8", "0.000000012345678901234567891"),
        ("1234567890123456789e-10", "123456789.0123456789"),
    ],
)
def test_schema_less_json_numbers_orjson_may_misread(literal: str, expected: Any) -> None:
    """Schema-less JSON from another producer: orjson's fast read is kept only where it holds
    the literal's number; anything else is read exactly (a float where that is the same)."""
    value = b'{"ID":1,"NOTE":"C-1234567890123456789","N":%s,"__deleted":"false"}' % literal.encode()
    assert same_number(document_value(b'{"ID":1}', value), expected)


def test_long_digit_runs_inside_strings_change_nothing() -> None:
    value = b'{"ID":1,"N":"1.2.3.4.5.6.7.8.9.0","M":"12345678901234567890e5"}'
    op = operation_for_event(TABLE, decode_record(b'{"ID":1}', value))
    assert isinstance(op, Upsert)
    assert op.document["n"] == "1.2.3.4.5.6.7.8.9.0"
    assert op.document["m"] == "12345678901234567890e5"
