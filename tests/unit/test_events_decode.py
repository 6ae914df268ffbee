from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from cdc_sync.events.decode import DecodeError, decode_record
from cdc_sync.events.encode import encode
from cdc_sync.events.model import UNAVAILABLE, ChangeEvent


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


KEY = _json({"ID": 42})
ROW = {"ID": 42, "NAME": "Ada", "PRICE": 12.5}
RELAY_SOURCE = {"connector": "cdc-sync", "table": "SHOP.ITEMS", "change_id": 7, "ts_ms": 1000}
DEBEZIUM_SOURCE = {
    "version": "2.7.3.Final",
    "connector": "oracle",
    "name": "server1",
    "ts_ms": 1700000000000,
    "snapshot": "false",
    "db": "ORCLPDB1",
    "schema": "SHOP",
    "table": "ITEMS",
    "txId": "0a001b00f3070000",
    "scn": "2868546",
    "commit_scn": "2868547",
}


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        pytest.param(
            KEY,
            _json({"before": None, "after": ROW, "source": RELAY_SOURCE, "op": "c", "ts_ms": 2000}),
            ChangeEvent("c", {"ID": 42}, ROW, None, "SHOP.ITEMS", 7, 1000),
            id="relay-insert",
        ),
        pytest.param(
            KEY,
            _json({"before": ROW, "after": None, "source": RELAY_SOURCE, "op": "d", "ts_ms": 2000}),
            ChangeEvent("d", {"ID": 42}, None, ROW, "SHOP.ITEMS", 7, 1000),
            id="relay-delete",
        ),
        pytest.param(KEY, None, ChangeEvent("d", {"ID": 42}), id="tombstone"),
        pytest.param(None, _json(ROW), ChangeEvent("r", {}, ROW), id="flattened-without-key"),
        pytest.param(
            KEY,
            _json({"before": None, "after": ROW, "source": DEBEZIUM_SOURCE, "op": "r", "ts_ms": 1}),
            ChangeEvent("r", {"ID": 42}, ROW, None, "SHOP.ITEMS", None, 1700000000000),
            id="debezium-payload-only-snapshot",
        ),
        pytest.param(
            KEY,
            _json(
                {
                    "before": ROW,
                    "after": {**ROW, "NAME": "Bo"},
                    "source": DEBEZIUM_SOURCE,
                    "op": "u",
                }
            ),
            ChangeEvent(
                "u", {"ID": 42}, {**ROW, "NAME": "Bo"}, ROW, "SHOP.ITEMS", None, 1700000000000
            ),
            id="debezium-payload-only-update",
        ),
        pytest.param(
            None,
            _json({"source": DEBEZIUM_SOURCE, "op": "t", "ts_ms": 5}),
            ChangeEvent("t", {}, None, None, "SHOP.ITEMS", None, 1700000000000),
            id="debezium-truncate",
        ),
        pytest.param(
            KEY,
            _json({"source": DEBEZIUM_SOURCE, "op": "t", "ts_ms": 5}),
            ChangeEvent("t", {}, None, None, "SHOP.ITEMS", None, 1700000000000),
            id="debezium-truncate-ignores-key",
        ),
        pytest.param(
            KEY,
            _json(
                {
                    **ROW,
                    "__op": "u",
                    "__table": "ITEMS",
                    "__schema": "SHOP",
                    "__source_ts_ms": 9,
                    "__deleted": "false",
                }
            ),
            ChangeEvent("u", {"ID": 42}, ROW, None, "SHOP.ITEMS", None, 9),
            id="flattened-update",
        ),
        pytest.param(
            KEY,
            _json({**ROW, "__deleted": "true"}),
            ChangeEvent("d", {"ID": 42}, None, ROW),
            id="flattened-deleted",
        ),
        pytest.param(
            KEY,
            _json({**ROW, "__deleted": True}),
            ChangeEvent("d", {"ID": 42}, None, ROW),
            id="flattened-deleted-boolean",
        ),
        pytest.param(
            KEY,
            _json({**ROW, "__op": "d"}),
            ChangeEvent("d", {"ID": 42}, None, ROW),
            id="flattened-op-d",
        ),
        pytest.param(
            None,
            _json({"before": ROW, "after": None, "op": "d"}),
            ChangeEvent("d", {}, None, ROW),
            id="delete-without-key",
        ),
        pytest.param(
            None,
            _json({**ROW, "__deleted": "true"}),
            ChangeEvent("d", {}, None, ROW),
            id="flattened-delete-without-key",
        ),
        pytest.param(
            KEY,
            _json({"id": 1, "op": "x", "name": "a column called op"}),
            ChangeEvent("r", {"ID": 42}, {"id": 1, "op": "x", "name": "a column called op"}),
            id="flattened-with-op-column",
        ),
    ],
)
def test_decodes(key: bytes | None, value: bytes | None, expected: ChangeEvent) -> None:
    assert decode_record(key, value) == expected


def test_column_names_and_values_are_kept_as_given() -> None:
    row = {"Id": 1, "lower": "x", "UPPER": [1, {"a": None}], "F": 0.1, "BIG": 2**70}
    event = decode_record(None, _json({"after": row, "op": "c"}))
    assert event.after == row
    assert event.after is not None and type(event.after["F"]) is float


@pytest.mark.parametrize(
    "event",
    [
        ChangeEvent("c", {"ID": 1}, {"ID": 1, "N": "x", "F": 0.1}, None, "S.T", 3, 17),
        ChangeEvent(
            "u", {"A": "k", "B": 2}, {"A": "k", "B": 2, "X": None}, {"A": "k", "B": 2}, "S.T", 4, 18
        ),
        ChangeEvent("r", {"ID": "é"}, {"ID": "é"}, None, "S.T", None, 19),
    ],
)
def test_round_trip_from_encode(event: ChangeEvent) -> None:
    ((key, value),) = encode(event, now_ms=99)
    assert decode_record(key, value) == event


def test_round_trip_delete_and_its_tombstone() -> None:
    event = ChangeEvent("d", {"ID": 5}, None, {"ID": 5, "N": "x"}, "S.T", 8, 20)
    (key, value), (tomb_key, tombstone) = encode(event, now_ms=99)
    assert decode_record(key, value) == event
    assert decode_record(tomb_key, tombstone) == ChangeEvent("d", {"ID": 5})


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        pytest.param(KEY, b"\xff\xfe", "value is not UTF-8", id="not-utf8"),
        pytest.param(KEY, b"{not json", "value is not JSON", id="bad-json"),
        pytest.param(KEY, b"", "value is not JSON", id="empty-bytes"),
        pytest.param(KEY, b"[1, 2]", "value is not a JSON object but an array", id="array"),
        pytest.param(KEY, b'"text"', "value is not a JSON object but a string", id="string"),
        pytest.param(KEY, b"42", "value is not a JSON object but a number", id="number"),
        pytest.param(KEY, b"{}", "unknown event shape: an empty object", id="empty-object"),
        pytest.param(
            KEY,
            _json({"after": ROW, "source": {}}),
            "unknown event shape: keys ['after', 'source'] but no 'op'",
            id="no-op",
        ),
        pytest.param(KEY, _json({"after": ROW, "op": "x"}), "unknown op 'x'", id="unknown-op"),
        pytest.param(KEY, _json({"after": ROW, "op": None}), "unknown op None", id="null-op"),
        pytest.param(
            KEY,
            _json({"after": [1], "op": "c"}),
            "'after' is not an object but an array",
            id="after-array",
        ),
        pytest.param(
            KEY,
            _json({"before": "x", "after": None, "op": "d"}),
            "'before' is not an object but a string",
            id="before-string",
        ),
        pytest.param(
            KEY,
            _json({"after": None, "op": "u"}),
            "op 'u' without an 'after' row image",
            id="update-without-after",
        ),
        pytest.param(
            None, None, "not a row change event (tombstone without a key)", id="tombstone-no-key"
        ),
        pytest.param(
            b"null",
            None,
            "not a row change event (tombstone without a key)",
            id="tombstone-null-key",
        ),
        pytest.param(
            None,
            _json({"before": None, "after": None, "op": "d"}),
            "delete without a record key or a row image",
            id="delete-without-key-or-row",
        ),
        pytest.param(b"{bad", _json({"after": ROW, "op": "c"}), "key is not JSON", id="bad-key"),
        pytest.param(
            b"\xff", _json({"after": ROW, "op": "c"}), "key is not UTF-8", id="key-not-utf8"
        ),
        pytest.param(
            b"[42]",
            _json({"after": ROW, "op": "c"}),
            "key is not a JSON object but an array",
            id="key-array",
        ),
        pytest.param(KEY, _json({**ROW, "__op": "q"}), "unknown __op 'q'", id="flattened-bad-op"),
        pytest.param(
            KEY,
            b"\x00\x00\x00\x00\x01\x02",
            "value: Avro records need a schema registry (kafka.schema_registry_url)",
            id="avro-value",
        ),
        pytest.param(
            b"\x00\x00\x00\x00\x01\x02",
            None,
            "key: Avro records need a schema registry (kafka.schema_registry_url)",
            id="avro-key",
        ),
        pytest.param(
            None,
            _json({"ts_ms": 1700000000000}),
            "not a row change event (heartbeat)",
            id="heartbeat",
        ),
        pytest.param(
            None,
            _json(
                {
                    "source": DEBEZIUM_SOURCE,
                    "databaseName": "ORCLPDB1",
                    "schemaName": "SHOP",
                    "ddl": "CREATE TABLE ...",
                    "tableChanges": [],
                }
            ),
            "not a row change event (schema change)",
            id="schema-change",
        ),
        pytest.param(
            None,
            _json(
                {
                    "status": "END",
                    "id": "0a001b00f3070000",
                    "event_count": 2,
                    "data_collections": [],
                    "ts_ms": 1,
                }
            ),
            "not a row change event (transaction metadata)",
            id="transaction-metadata",
        ),
    ],
)
def test_poison_records_raise_decode_error(
    key: bytes | None, value: bytes | None, reason: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_record(key, value)
    assert reason in caught.value.reason
    assert str(caught.value) == caught.value.reason


def test_unexpected_errors_become_decode_errors() -> None:
    def broken_avro(data: bytes) -> Any:
        raise RuntimeError("boom")

    with pytest.raises(DecodeError, match="RuntimeError: boom"):
        decode_record(KEY, b"\x00\x00\x00\x00\x01", avro=broken_avro)


def test_deeply_nested_json_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode_record(KEY, b"[" * 100_000 + b"]" * 100_000)


def _field(name: str, kind: str, logical: str | None = None, **extra: Any) -> dict[str, Any]:
    field: dict[str, Any] = {"type": kind, "optional": True, "field": name, **extra}
    if logical:
        field["name"] = logical
        field["version"] = 1
    return field


# A Debezium Oracle table: ID NUMBER(10), PRICE NUMBER(10,2), QTY NUMBER, CREATED DATE,
# UPDATED TIMESTAMP(6), EXACT TIMESTAMP(9), ZONED TIMESTAMP WITH TIME ZONE, PHOTO BLOB,
# RATIO BINARY_DOUBLE, NOTES CLOB.
ORACLE_ROW_FIELDS = [
    _field("ID", "int64", optional=False),
    _field(
        "PRICE",
        "bytes",
        "org.apache.kafka.connect.data.Decimal",
        parameters={"scale": "2", "connect.decimal.precision": "10"},
    ),
    {
        "type": "struct",
        "fields": [
            {"type": "int32", "optional": False, "field": "scale"},
            {"type": "bytes", "optional": False, "field": "value"},
        ],
        "optional": True,
        "name": "io.debezium.data.VariableScaleDecimal",
        "version": 1,
        "doc": "Variable scaled decimal",
        "field": "QTY",
    },
    _field("CREATED", "int64", "io.debezium.time.Timestamp"),
    _field("UPDATED", "int64", "io.debezium.time.MicroTimestamp"),
    _field("EXACT", "int64", "io.debezium.time.NanoTimestamp"),
    _field("ZONED", "string", "io.debezium.time.ZonedTimestamp"),
    _field("PHOTO", "bytes"),
    _field("RATIO", "double"),
    _field("NOTES", "string"),
]
ORACLE_ROW_JSON = {
    "ID": 42,
    "PRICE": "BNI=",
    "QTY": {"scale": 3, "value": "MDk="},
    "CREATED": 1709288130000,
    "UPDATED": 1709288130123456,
    "EXACT": 1709288130123456789,
    "ZONED": "2024-03-01T10:15:30.123456Z",
    "PHOTO": "AAH/",
    "RATIO": 0.25,
    "NOTES": "__debezium_unavailable_value",
}
ORACLE_ROW = {
    "ID": 42,
    "PRICE": Decimal("12.34"),
    "QTY": Decimal("12.345"),
    "CREATED": dt.datetime(2024, 3, 1, 10, 15, 30),
    "UPDATED": dt.datetime(2024, 3, 1, 10, 15, 30, 123456),
    "EXACT": "2024-03-01T10:15:30.123456789",  # NanoTimestamp: the nanoseconds kept
    "ZONED": dt.datetime(2024, 3, 1, 10, 15, 30, 123456, tzinfo=dt.UTC),
    "PHOTO": b"\x00\x01\xff",
    "RATIO": 0.25,
    "NOTES": UNAVAILABLE,
}
ROW_SCHEMA = {
    "type": "struct",
    "fields": ORACLE_ROW_FIELDS,
    "optional": True,
    "name": "server1.SHOP.ITEMS.Value",
}
ENVELOPE_SCHEMA = {
    "type": "struct",
    "fields": [
        {**ROW_SCHEMA, "field": "before"},
        {**ROW_SCHEMA, "field": "after"},
        {
            "type": "struct",
            "fields": [_field(k, "string") for k in DEBEZIUM_SOURCE],
            "optional": False,
            "name": "io.debezium.connector.oracle.Source",
            "field": "source",
        },
        _field("op", "string", optional=False),
        _field("ts_ms", "int64"),
    ],
    "optional": False,
    "name": "server1.SHOP.ITEMS.Envelope",
    "version": 2,
}
KEY_WITH_SCHEMA = _json(
    {
        "schema": {
            "type": "struct",
            "fields": [
                _field(
                    "ID",
                    "bytes",
                    "org.apache.kafka.connect.data.Decimal",
                    parameters={"scale": "0"},
                )
            ],
            "optional": False,
            "name": "server1.SHOP.ITEMS.Key",
        },
        "payload": {"ID": "Kg=="},
    }
)


def _with_schema(payload: dict[str, Any], schema: dict[str, Any] = ENVELOPE_SCHEMA) -> bytes:
    return _json({"schema": schema, "payload": payload})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        pytest.param(
            KEY_WITH_SCHEMA,
            _with_schema(
                {
                    "before": None,
                    "after": ORACLE_ROW_JSON,
                    "source": DEBEZIUM_SOURCE,
                    "op": "c",
                    "ts_ms": 1,
                }
            ),
            ChangeEvent(
                "c", {"ID": Decimal(42)}, ORACLE_ROW, None, "SHOP.ITEMS", None, 1700000000000
            ),
            id="oracle-insert",
        ),
        pytest.param(
            KEY_WITH_SCHEMA,
            _with_schema(
                {
                    "before": ORACLE_ROW_JSON,
                    "after": None,
                    "source": DEBEZIUM_SOURCE,
                    "op": "d",
                    "ts_ms": 1,
                }
            ),
            ChangeEvent(
                "d", {"ID": Decimal(42)}, None, ORACLE_ROW, "SHOP.ITEMS", None, 1700000000000
            ),
            id="oracle-delete",
        ),
        pytest.param(
            KEY_WITH_SCHEMA,
            None,
            ChangeEvent("d", {"ID": Decimal(42)}),
            id="tombstone-key-with-schema",
        ),
        pytest.param(
            KEY,
            _with_schema(
                {**ORACLE_ROW_JSON, "__deleted": "false", "__op": "u", "__table": "ITEMS"},
                {
                    **ROW_SCHEMA,
                    "fields": [
                        *ORACLE_ROW_FIELDS,
                        _field("__deleted", "string"),
                        _field("__op", "string"),
                        _field("__table", "string"),
                    ],
                },
            ),
            ChangeEvent("u", {"ID": 42}, ORACLE_ROW, None, "ITEMS"),
            id="flattened-with-schema",
        ),
        pytest.param(
            KEY,
            _with_schema(
                {**ORACLE_ROW_JSON, "__deleted": "true"},
                {**ROW_SCHEMA, "fields": [*ORACLE_ROW_FIELDS, _field("__deleted", "string")]},
            ),
            ChangeEvent("d", {"ID": 42}, None, ORACLE_ROW),
            id="flattened-deleted-with-schema",
        ),
        pytest.param(
            KEY,
            _json({"schema": None, "payload": None}),
            ChangeEvent("d", {"ID": 42}),
            id="null-payload-is-a-tombstone",
        ),
        pytest.param(KEY, b"null", ChangeEvent("d", {"ID": 42}), id="json-null-is-a-tombstone"),
    ],
)
def test_decodes_with_schema(key: bytes | None, value: bytes | None, expected: ChangeEvent) -> None:
    assert decode_record(key, value) == expected


def test_payload_only_keeps_json_values() -> None:
    payload = {"before": None, "after": ORACLE_ROW_JSON, "source": DEBEZIUM_SOURCE, "op": "c"}
    assert decode_record(KEY, _json(payload)).after == ORACLE_ROW_JSON


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param(
            _with_schema({"before": None, "after": {**ORACLE_ROW_JSON, "PRICE": "!!"}, "op": "c"}),
            "value.after.PRICE (org.apache.kafka.connect.data.Decimal): not base64: '!!'",
            id="bad-base64",
        ),
        pytest.param(
            _with_schema(
                {"before": None, "after": {**ORACLE_ROW_JSON, "UPDATED": "yesterday"}, "op": "c"}
            ),
            "value.after.UPDATED (io.debezium.time.MicroTimestamp): expected an integer",
            id="timestamp-not-integer",
        ),
        pytest.param(
            _with_schema({"before": None, "after": "oops", "op": "c"}),
            "value.after: expected an object for a struct, got str",
            id="after-not-object",
        ),
        pytest.param(
            _with_schema(
                {"ts_ms": 1},
                {"type": "struct", "name": "io.debezium.connector.common.Heartbeat", "fields": []},
            ),
            "not a row change event (heartbeat)",
            id="heartbeat-with-schema",
        ),
    ],
)
def test_poison_with_schema(value: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_record(KEY, value)
    assert reason in caught.value.reason


def test_decimal_key_with_bad_base64_is_a_decode_error() -> None:
    bad_key = KEY_WITH_SCHEMA.replace(b'"Kg=="', b'"K"')
    with pytest.raises(
        DecodeError, match=r"^key\.ID \(org\.apache\.kafka\.connect\.data\.Decimal\): not base64"
    ):
        decode_record(bad_key, None)


def test_avro_hook_output_is_used_as_is() -> None:
    row = {"ID": 42, "PRICE": Decimal("12.34")}

    def avro(data: bytes) -> Any:
        assert data == b"\x00\x00\x00\x00\x07payload"
        return {"before": None, "after": row, "source": DEBEZIUM_SOURCE, "op": "c"}

    event = decode_record(None, b"\x00\x00\x00\x00\x07payload", avro=avro)
    assert event.after == row
    assert event.after is not None and type(event.after["PRICE"]) is Decimal


def test_numeric_decimal_format_stays_exact_through_json() -> None:
    """JsonConverter ``decimal.format=NUMERIC`` writes Decimals as JSON numbers."""
    value = (
        b'{"schema": %s, "payload": {"op": "c", "after": {"ID": 42, "PRICE": 1234567890123456789.25, "RATIO": 0.1}}}'
        % _json(ENVELOPE_SCHEMA)
    )
    after = decode_record(None, value).after
    assert after == {"ID": 42, "PRICE": Decimal("1234567890123456789.25"), "RATIO": 0.1}
    assert after is not None and type(after["RATIO"]) is float
