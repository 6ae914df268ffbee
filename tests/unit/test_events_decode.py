from __future__ import annotations

import json
from typing import Any

import pytest

from cdc_sync.events.decode import DecodeError, decode_record
from cdc_sync.events.encode import encode
from cdc_sync.events.model import ChangeEvent


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
            ChangeEvent("r", {"ID": 42}, ROW, None, "ITEMS", None, 1700000000000),
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
            ChangeEvent("u", {"ID": 42}, {**ROW, "NAME": "Bo"}, ROW, "ITEMS", None, 1700000000000),
            id="debezium-payload-only-update",
        ),
        pytest.param(
            None,
            _json({"source": DEBEZIUM_SOURCE, "op": "t", "ts_ms": 5}),
            ChangeEvent("t", {}, None, None, "ITEMS", None, 1700000000000),
            id="debezium-truncate",
        ),
        pytest.param(
            KEY,
            _json({"source": DEBEZIUM_SOURCE, "op": "t", "ts_ms": 5}),
            ChangeEvent("t", {}, None, None, "ITEMS", None, 1700000000000),
            id="debezium-truncate-ignores-key",
        ),
        pytest.param(
            KEY,
            _json(
                {**ROW, "__op": "u", "__table": "ITEMS", "__source_ts_ms": 9, "__deleted": "false"}
            ),
            ChangeEvent("u", {"ID": 42}, ROW, None, "ITEMS", None, 9),
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
        pytest.param(None, None, "tombstone without a record key", id="tombstone-without-key"),
        pytest.param(b"null", None, "tombstone without a record key", id="tombstone-null-key"),
        pytest.param(
            None,
            _json({"before": ROW, "after": None, "op": "d"}),
            "delete without a record key",
            id="delete-without-key",
        ),
        pytest.param(
            None,
            _json({**ROW, "__deleted": "true"}),
            "delete without a record key",
            id="flattened-delete-without-key",
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
            "value: Avro records need a schema registry (not configured)",
            id="avro-value",
        ),
        pytest.param(
            b"\x00\x00\x00\x00\x01\x02",
            None,
            "key: Avro records need a schema registry (not configured)",
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
