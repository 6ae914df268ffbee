"""Avro records (Confluent wire format) decode to the same events as the JSON path.

The schemas are shaped as Kafka Connect's AvroData writes Debezium's (the one
Apicurio's converter and Confluent's share): optional fields are unions with
null, semantic types carry ``connect.name`` and ``connect.parameters``, and
Connect's own Decimal, Date and Timestamp also carry an Avro ``logicalType``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from cdc_sync.errors import TransientError
from cdc_sync.events.avro import AvroReader, UnknownSchema
from cdc_sync.events.decode import DecodeError, decode_record
from cdc_sync.events.model import UNAVAILABLE
from tests.unit.test_events_numbers import GOLDEN, debezium_decimal, exact

SCHEMA_ID = 7
KEY_ID = 8


def connect(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "connect.version": 1, "connect.name": name, **extra}


def decimal(scale: int, precision: int = 38) -> dict[str, Any]:
    return connect(
        "org.apache.kafka.connect.data.Decimal",
        "bytes",
        scale=scale,
        precision=precision,
        logicalType="decimal",
        **{
            "connect.parameters": {"scale": str(scale), "connect.decimal.precision": str(precision)}
        },
    )


VARIABLE = {
    "type": "record",
    "name": "VariableScaleDecimal",
    "namespace": "io.debezium.data",
    "fields": [{"name": "scale", "type": "int"}, {"name": "value", "type": "bytes"}],
    "connect.doc": "Variable scaled decimal",
    "connect.version": 1,
    "connect.name": "io.debezium.data.VariableScaleDecimal",
}

# column → (Avro field type, JSON Connect field schema, Avro datum, JSON payload value)
COLUMNS: dict[str, tuple[Any, dict[str, Any], Any, Any]] = {
    "PRICE": (
        decimal(2, 10),
        {
            "type": "bytes",
            "name": "org.apache.kafka.connect.data.Decimal",
            "parameters": {"scale": "2"},
        },
        Decimal("12.34"),
        "BNI=",
    ),
    "RATIO": (
        VARIABLE,
        {"type": "struct", "name": VARIABLE["connect.name"]},
        {"scale": 3, "value": b"\x30\x39"},
        {"scale": 3, "value": "MDk="},
    ),
    "BORN": (
        connect("org.apache.kafka.connect.data.Date", "int", logicalType="date"),
        {"type": "int32", "name": "org.apache.kafka.connect.data.Date"},
        dt.date(2024, 2, 29),
        19782,
    ),
    "DAY": (
        connect("io.debezium.time.Date", "int"),
        {"type": "int32", "name": "io.debezium.time.Date"},
        19782,
        19782,
    ),
    "AT_MS": (
        connect("org.apache.kafka.connect.data.Timestamp", "long", logicalType="timestamp-millis"),
        {"type": "int64", "name": "org.apache.kafka.connect.data.Timestamp"},
        dt.datetime(2024, 2, 29, 13, 5, 1, 250000, tzinfo=dt.UTC),
        1709211901250,
    ),
    "AT_US": (
        connect("io.debezium.time.MicroTimestamp", "long"),
        {"type": "int64", "name": "io.debezium.time.MicroTimestamp"},
        1709211901250123,
        1709211901250123,
    ),
    "AT_NS": (
        connect("io.debezium.time.NanoTimestamp", "long"),
        {"type": "int64", "name": "io.debezium.time.NanoTimestamp"},
        1709211901250123456,
        1709211901250123456,
    ),
    "AT_TZ": (
        connect("io.debezium.time.ZonedTimestamp", "string"),
        {"type": "string", "name": "io.debezium.time.ZonedTimestamp"},
        "2024-02-29T13:05:01.25+09:00",
        "2024-02-29T13:05:01.25+09:00",
    ),
    "AT_TIME": (
        connect("io.debezium.time.MicroTime", "long"),
        {"type": "int64", "name": "io.debezium.time.MicroTime"},
        47101250000,
        47101250000,
    ),
    "PHOTO": (
        "bytes",
        {"type": "bytes"},
        b"\x89PNG",
        base64.b64encode(b"\x89PNG").decode(),
    ),
    "NOTE": ("string", {"type": "string"}, "text", "text"),
    "BODY": ("string", {"type": "string"}, UNAVAILABLE, UNAVAILABLE),
    "BLOB": (
        "bytes",
        {"type": "bytes"},
        UNAVAILABLE.encode(),
        base64.b64encode(UNAVAILABLE.encode()).decode(),
    ),
    "EMPTY": ("long", {"type": "int64"}, None, None),
    "SCORE": ("double", {"type": "double"}, 0.1, 0.1),
}
VARIABLE_JSON = {
    **COLUMNS["RATIO"][1],
    "fields": [{"type": "int32", "field": "scale"}, {"type": "bytes", "field": "value"}],
}


def avro_value_schema() -> dict[str, Any]:
    row = {
        "type": "record",
        "name": "Value",
        "namespace": "srv.APP.ITEMS",
        "fields": [{"name": "ID", "type": "long"}]
        + [
            {"name": name, "type": ["null", kind], "default": None}
            for name, (kind, _, _, _) in COLUMNS.items()
        ],
        "connect.name": "srv.APP.ITEMS.Value",
    }
    source = {
        "type": "record",
        "name": "Source",
        "namespace": "io.debezium.connector.postgresql",
        "fields": [
            {"name": "connector", "type": "string"},
            {"name": "schema", "type": "string"},
            {"name": "table", "type": "string"},
            {"name": "lsn", "type": ["null", "long"], "default": None},
        ],
    }
    return {
        "type": "record",
        "name": "Envelope",
        "namespace": "srv.APP.ITEMS",
        "fields": [
            {"name": "before", "type": ["null", row], "default": None},
            {"name": "after", "type": ["null", "Value"], "default": None},
            {"name": "source", "type": source},
            {"name": "op", "type": "string"},
            {"name": "ts_ms", "type": ["null", "long"], "default": None},
        ],
        "connect.name": "srv.APP.ITEMS.Envelope",
    }


KEY_SCHEMA = {
    "type": "record",
    "name": "Key",
    "namespace": "srv.APP.ITEMS",
    "fields": [{"name": "ID", "type": "long"}],
}
SCHEMAS = {SCHEMA_ID: json.dumps(avro_value_schema()), KEY_ID: json.dumps(KEY_SCHEMA)}


def wire(schema_id: int, schema: dict[str, Any], datum: Any) -> bytes:
    out = io.BytesIO()
    out.write(b"\x00" + schema_id.to_bytes(4, "big"))
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), datum)
    return out.getvalue()


def reader(schemas: dict[int, str] | None = None) -> AvroReader:
    known = SCHEMAS if schemas is None else schemas

    def lookup(schema_id: int) -> str:
        if schema_id not in known:
            raise UnknownSchema(f"schema id {schema_id} is not in the schema registry")
        return known[schema_id]

    return AvroReader(lookup)


def source() -> dict[str, Any]:
    return {"connector": "postgresql", "schema": "APP", "table": "ITEMS", "lsn": 42}


def avro_record(after: dict[str, Any], op: str = "c") -> tuple[bytes, bytes]:
    datum = {"before": None, "after": after, "source": source(), "op": op, "ts_ms": 1}
    return wire(KEY_ID, KEY_SCHEMA, {"ID": after["ID"]}), wire(
        SCHEMA_ID, avro_value_schema(), datum
    )


def json_record(after: dict[str, Any], op: str = "c") -> tuple[bytes, bytes]:
    fields = [{"type": "int64", "field": "ID"}] + [
        {**(VARIABLE_JSON if name == "RATIO" else spec), "optional": True, "field": name}
        for name, (_, spec, _, _) in COLUMNS.items()
    ]
    row = {"type": "struct", "optional": True, "fields": fields}
    schema = {
        "type": "struct",
        "fields": [
            {**row, "field": "before"},
            {**row, "field": "after"},
            {"type": "struct", "field": "source", "fields": []},
            {"type": "string", "field": "op"},
            {"type": "int64", "field": "ts_ms"},
        ],
    }
    payload = {"before": None, "after": after, "source": source(), "op": op, "ts_ms": 1}
    key = {
        "schema": {"type": "struct", "fields": [{"type": "int64", "field": "ID"}]},
        "payload": {"ID": after["ID"]},
    }
    return json.dumps(key).encode(), json.dumps({"schema": schema, "payload": payload}).encode()


def test_avro_and_json_with_schemas_give_the_same_event() -> None:
    avro_after = {"ID": 1, **{name: datum for name, (_, _, datum, _) in COLUMNS.items()}}
    json_after = {"ID": 1, **{name: value for name, (_, _, _, value) in COLUMNS.items()}}
    from_avro = decode_record(*avro_record(avro_after), avro=reader())
    from_json = decode_record(*json_record(json_after))
    assert from_avro == from_json
    after = from_avro.after
    assert after is not None
    assert after["PRICE"] == Decimal("12.34")
    assert after["RATIO"] == Decimal("12.345")
    assert after["BORN"] == after["DAY"] == dt.date(2024, 2, 29)
    assert after["AT_MS"] == dt.datetime(2024, 2, 29, 13, 5, 1, 250000)
    assert after["AT_US"] == dt.datetime(2024, 2, 29, 13, 5, 1, 250123)
    assert after["AT_NS"] == "2024-02-29T13:05:01.250123456"  # nanoseconds kept, as text
    assert after["AT_TZ"] == dt.datetime.fromisoformat("2024-02-29T13:05:01.25+09:00")
    assert after["AT_TIME"] == dt.time(13, 5, 1, 250000)
    assert after["PHOTO"] == b"\x89PNG"
    assert after["BODY"] == UNAVAILABLE
    assert after["BLOB"] == UNAVAILABLE.encode()  # the mapper judges it by the table's placeholder
    assert from_avro.key == {"ID": 1} and from_avro.table == "APP.ITEMS"


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_golden_decimals_through_avro(text: str, expected: Any) -> None:
    from cdc_sync.config import TableSettings
    from cdc_sync.documents.mapping import Upsert, operation_for_event

    unscaled, scale = debezium_decimal(text)
    after = {"ID": 1, "RATIO": {"scale": scale, "value": base64.b64decode(unscaled)}}
    op = operation_for_event(
        TableSettings.model_validate({"name": "ITEMS", "primary_key": ["ID"]}),
        decode_record(*avro_record(after), avro=reader()),
    )
    assert isinstance(op, Upsert)
    assert exact(op.document["ratio"], expected)


def test_tombstone_with_an_avro_key() -> None:
    key, _ = avro_record({"ID": 5})
    event = decode_record(key, None, avro=reader())
    assert (event.op, event.key) == ("d", {"ID": 5})


def test_unknown_schema_id_is_a_decode_error_with_the_reason() -> None:
    key, value = avro_record({"ID": 1})
    with pytest.raises(DecodeError, match=r"^value: schema id 7 is not in the schema registry"):
        decode_record(key, value, avro=reader({KEY_ID: SCHEMAS[KEY_ID]}))


def test_a_registry_that_does_not_answer_is_transient() -> None:
    def down(schema_id: int) -> str:
        raise TransientError("schema registry at http://registry does not answer")

    key, value = avro_record({"ID": 1})
    with pytest.raises(TransientError):
        decode_record(key, value, avro=AvroReader(down))


def test_schemas_are_asked_for_once() -> None:
    asked: list[int] = []

    def lookup(schema_id: int) -> str:
        asked.append(schema_id)
        return SCHEMAS[schema_id]

    avro = AvroReader(lookup)
    for i in range(3):
        decode_record(*avro_record({"ID": i}), avro=avro)
    assert sorted(asked) == [SCHEMA_ID, KEY_ID]


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda b: b[:-3], "unreadable body"),
        (lambda b: b + b"\x00\x00", "bytes left"),
        (lambda b: b[:3], "not the Confluent wire format"),
    ],
)
def test_broken_bodies_are_decode_errors(mangle: Any, reason: str) -> None:
    key, value = avro_record({"ID": 1, "NOTE": "some text"})
    with pytest.raises(DecodeError, match=reason):
        decode_record(key, mangle(value), avro=reader())


def test_a_schema_that_is_not_avro_is_a_decode_error() -> None:
    key, value = avro_record({"ID": 1})
    with pytest.raises(DecodeError, match="not a valid Avro schema"):
        decode_record(key, value, avro=reader({**SCHEMAS, SCHEMA_ID: '{"type": "nonsense"}'}))


def test_an_envelope_whose_schema_gained_a_field_is_still_an_envelope() -> None:
    """Its schema's name says so (``srv.APP.ITEMS.Envelope``: Envelope.isEnvelopeSchema), though
    its fields are no longer all Debezium's envelope fields (Envelope.ALL_FIELD_NAMES)."""
    schema = avro_value_schema()
    schema["fields"].append({"name": "extra", "type": ["null", "string"], "default": None})
    datum = {"before": None, "after": {"ID": 7}, "source": source(), "op": "c", "extra": None}
    value = wire(SCHEMA_ID + 1, schema, {**datum, "ts_ms": 1})
    event = decode_record(None, value, avro=reader({**SCHEMAS, SCHEMA_ID + 1: json.dumps(schema)}))
    assert (event.op, event.after) == ("c", {"ID": 7, **dict.fromkeys(COLUMNS)})
