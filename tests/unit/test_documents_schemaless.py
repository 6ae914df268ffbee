"""Debezium JSON without schemas: per-field types say what the envelope cannot.

With ``value.converter.schemas.enable=false`` a Decimal arrives as base64 unscaled
bytes ("BNI=") and timestamps as epoch numbers. A field's ``type = "decimal"`` with
``scale``, or ``unit``, decodes them with the same functions as the schema path,
so the documents are those the schema-carrying envelope gives.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from cdc_sync.config import TableSettings, load_settings
from cdc_sync.documents.mapping import MappingError, Upsert, operation_for_event
from cdc_sync.errors import ConfigError
from cdc_sync.events.decode import decode_record
from tests.unit.test_events_avro import COLUMNS, json_record
from tests.unit.test_events_numbers import GOLDEN, debezium_decimal, exact

SCHEMALESS_FIELDS: dict[str, Any] = {
    "ID": "id",
    "PRICE": {"name": "price", "type": "decimal", "scale": 2},
    "RATIO": {"name": "ratio", "type": "decimal"},
    "BORN": {"name": "born", "unit": "days"},
    "DAY": {"name": "day", "unit": "days"},
    "AT_MS": {"name": "at_ms", "unit": "millis"},
    "AT_US": {"name": "at_us", "unit": "micros"},
    "AT_NS": {"name": "at_ns", "unit": "nanos"},
    "AT_TZ": "at_tz",
    "NOTE": "note",
    "SCORE": "score",
}


def table(fields: dict[str, Any] | None) -> TableSettings:
    return TableSettings.model_validate({"name": "ITEMS", "primary_key": ["ID"], "fields": fields})


def document(settings: TableSettings, key: bytes, value: bytes) -> dict[str, Any]:
    op = operation_for_event(settings, decode_record(key, value))
    assert isinstance(op, Upsert)
    return op.document


def schemaless(after: dict[str, Any]) -> bytes:
    source = {"connector": "postgresql"}
    return json.dumps({"before": None, "after": after, "source": source, "op": "c"}).encode()


def test_schemaless_fields_give_the_documents_of_the_schema_path() -> None:
    after = {"ID": 1, **{name: value for name, (_, _, _, value) in COLUMNS.items()}}
    with_schema = document(
        table({k: (v if isinstance(v, str) else v["name"]) for k, v in SCHEMALESS_FIELDS.items()}),
        *json_record(after),
    )
    without = document(table(SCHEMALESS_FIELDS), b'{"ID": 1}', schemaless(after))
    # A ZonedTimestamp is text either way; with its schema it is read and written back
    # in Python's ISO form (".25" → ".250000"), the same instant.
    assert without.pop("at_tz") == "2024-02-29T13:05:01.25+09:00"
    assert with_schema.pop("at_tz") == "2024-02-29T13:05:01.250000+09:00"
    assert without == with_schema
    assert without["price"] == 12.34 and without["ratio"] == 12.345
    assert without["born"] == without["day"] == "2024-02-29"
    assert without["at_us"] == "2024-02-29T13:05:01.250123"


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_golden_decimals_as_base64_with_a_scale(text: str, expected: Any) -> None:
    unscaled, scale = debezium_decimal(text)
    fields = {"ID": "id", "N": {"name": "n", "type": "decimal", "scale": scale}}
    doc = document(table(fields), b'{"ID": 1}', schemaless({"ID": 1, "N": unscaled}))
    assert exact(doc["n"], expected)


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_golden_decimals_as_strings(text: str, expected: Any) -> None:
    """decimal.handling.mode=string: the digits as a string."""
    fields = {"ID": "id", "N": {"name": "n", "type": "decimal"}}
    doc = document(table(fields), b'{"ID": 1}', schemaless({"ID": 1, "N": text}))
    assert exact(doc["n"], expected)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ({"type": "epoch", "unit": "micros"}, 1709211901250123, 1709211901.250123),
        ({"type": "epoch_ms", "unit": "micros"}, 1709211901250123, 1709211901250),
        ({"type": "epoch", "unit": "days"}, 19782, 1709164800),
        ({"type": "datetime", "unit": "millis"}, 1709211901250, "2024-02-29T13:05:01.250000+00:00"),
        ({"type": "datetime", "unit": "seconds"}, -1, "1969-12-31T23:59:59+00:00"),
        ({"unit": "nanos"}, 1709211901250123456, "2024-02-29T13:05:01.250123456"),
        ({"unit": "nanos"}, 1709211901250123000, "2024-02-29T13:05:01.250123"),
        ({"unit": "micros"}, "2024-02-29T13:05:01Z", "2024-02-29T13:05:01Z"),  # already text
    ],
)
def test_epoch_numbers_to_iso_or_epoch(spec: dict[str, Any], value: Any, expected: Any) -> None:
    fields = {"ID": "id", "AT": {"name": "at", **spec}}
    doc = document(table(fields), b'{"ID": 1}', schemaless({"ID": 1, "AT": value}))
    assert doc["at"] == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not base64!", "not base64"),
        (True, "not a decimal"),
        ({"scale": 1}, "expected {scale, value}"),
    ],
)
def test_undecodable_decimals_name_the_column(value: Any, reason: str) -> None:
    fields = {"ID": "id", "N": {"name": "n", "type": "decimal", "scale": 2}}
    with pytest.raises(MappingError, match=rf"column N \(decimal\).*{reason}"):
        document(table(fields), b'{"ID": 1}', schemaless({"ID": 1, "N": value}))


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (
            '{ name = "n", type = "float", scale = 2 }',
            'tables[0].fields.N: scale is for type = "decimal"',
        ),
        (
            '{ name = "n", type = "boolean", unit = "millis" }',
            "tables[0].fields.N: unit is for type = auto",
        ),
        ('{ name = "n", unit = "hours" }', "tables[0].fields.N.unit: Input should be"),
        ('{ name = "n", type = "money" }', "tables[0].fields.N.type: Input should be"),
    ],
)
def test_field_options_are_checked_naming_the_key(tmp_path: Path, spec: str, problem: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[source]\nurl = "sqlite:///x.db"\n[kafka]\nbootstrap_servers = "k:9092"\n'
        '[meilisearch]\nurl = "http://m:7700"\n'
        f'[[tables]]\nname = "T"\nprimary_key = ["ID"]\nfields = {{ N = {spec} }}\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(problem), caught.value.problems


def test_base64_decimals_are_exact_for_38_digits() -> None:
    raw = (-(10**38) + 1).to_bytes(17, "big", signed=True)
    fields = {"ID": "id", "N": {"name": "n", "type": "decimal", "scale": 10}}
    value = schemaless({"ID": 1, "N": base64.b64encode(raw).decode()})
    assert (
        document(table(fields), b'{"ID": 1}', value)["n"]
        == "-9999999999999999999999999999.9999999999"
    )
