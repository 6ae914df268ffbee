"""Envelope, flattened row, or a record that is not a row change: decided by the shape Debezium
guarantees, never by a column's name (`source`, `op`, `before`, `after`, `ddl`, `status` are
ordinary column names, most of all on PostgreSQL).

Where the expectations come from (Debezium at commit aad5519):
- A change event's value schema is named ``<topic>.Envelope``: ``Envelope.SCHEMA_NAME_SUFFIX``
  (debezium-connector-common/.../data/Envelope.java:156) and ``Envelope.isEnvelopeSchema``
  (:393); Debezium's own SMTs decide with it (``SmtManager.isValidEnvelope``,
  debezium-connect-plugins/.../transforms/SmtManager.java:46-54). The envelope's fields are
  ``Envelope.ALL_FIELD_NAMES`` (Envelope.java:138-151: op, ts_ms, ts_us, ts_ns, before, after,
  source, transaction), ``op`` always present (``OPERATION_REQUIRED``, :133).
- A row's schema is named ``<prefix>.<schema>.<table>.Value`` (TableSchemaBuilder.java:162;
  oracle.adoc, "create events": "The names of the schemas for the before and after fields are
  of the form <logicalName>.<schemaName>.<tableName>.Value"); ExtractNewRecordState passes the
  ``after`` struct on with that schema.
- Heartbeat: value schema ``io.debezium.connector.common.Heartbeat`` with the one field
  ``ts_ms``, key ``io.debezium.connector.common.ServerNameKey`` {serverName}
  (SchemaFactory.java:53-57, 165-179; HeartbeatImpl.java:153-167).
- Transaction metadata: value schema ``io.debezium.connector.common.TransactionMetadataValue``
  with status, id, event_count, data_collections, ts_ms (SchemaFactory.java:62-66, 208-219);
  oracle.adoc "Transaction metadata" shows the BEGIN and END messages used here.
- Schema change: value schema ``io.debezium.connector.<connector>.SchemaChangeValue``
  (SchemaFactory.java:77-84, 274-286) with source, ts_ms, databaseName, schemaName, ddl,
  tableChanges; oracle.adoc "Schema change topic" example (also ts_us, ts_ns).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cdc_sync.events.decode import DecodeError, NotARowChange, decode_record, record_shape
from cdc_sync.events.model import ChangeEvent
from cdc_sync.events.shapes import shape_of

SOURCE = {  # oracle.adoc, "create events" (payload.source), abridged
    "version": "3.6.0.Final",
    "connector": "oracle",
    "name": "server1",
    "ts_ms": 1520085154000,
    "db": "ORCLPDB1",
    "schema": "DEBEZIUM",
    "table": "CUSTOMERS",
    "txId": "6.28.807",
    "scn": "2122185",
}


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def _field(name: str, kind: str, optional: bool = True) -> dict[str, Any]:
    return {"type": kind, "optional": optional, "field": name}


def _struct(name: str, fields: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "struct", "fields": fields, "optional": True, "name": name, **extra}


# A PostgreSQL table whose columns carry the envelope's names: id, source, op, before, after.
ODD_COLUMNS = [_field("id", "int64", optional=False)] + [
    _field(name, "string") for name in ("source", "op", "before", "after")
]
ODD_ROW = {"id": 7, "source": "web", "op": "refund", "before": "draft", "after": "paid"}
ODD_VALUE_SCHEMA = _struct("server1.public.orders.Value", ODD_COLUMNS)
ODD_ENVELOPE_SCHEMA = _struct(
    "server1.public.orders.Envelope",
    [
        {**ODD_VALUE_SCHEMA, "field": "before"},
        {**ODD_VALUE_SCHEMA, "field": "after"},
        _struct(
            "io.debezium.connector.postgresql.Source",
            [_field(k, "string") for k in SOURCE],
            field="source",
        ),
        _field("op", "string", optional=False),
        _field("ts_ms", "int64"),
    ],
)
KEY = _json({"id": 7})

HEARTBEAT_KEY = _json(
    {
        "schema": _struct(
            "io.debezium.connector.common.ServerNameKey", [_field("serverName", "string", False)]
        ),
        "payload": {"serverName": "server1"},
    }
)
HEARTBEAT_SCHEMA = _struct(
    "io.debezium.connector.common.Heartbeat", [_field("ts_ms", "int64", False)]
)
TRANSACTION_SCHEMA = _struct(
    "io.debezium.connector.common.TransactionMetadataValue",
    [
        _field("status", "string", False),
        _field("id", "string", False),
        _field("event_count", "int64"),
        {
            "type": "array",
            "items": _struct(
                "event.collection",
                [_field("data_collection", "string", False), _field("event_count", "int64")],
            ),
            "optional": True,
            "field": "data_collections",
        },
        _field("ts_ms", "int64", False),
    ],
)
TRANSACTION_BEGIN = {  # oracle.adoc, "Transaction metadata"
    "status": "BEGIN",
    "id": "5.6.641",
    "ts_ms": 1486500577125,
    "event_count": None,
    "data_collections": None,
}
TRANSACTION_END = {
    "status": "END",
    "id": "5.6.641",
    "ts_ms": 1486500577691,
    "event_count": 2,
    "data_collections": [
        {"data_collection": "ORCLPDB1.DEBEZIUM.CUSTOMER", "event_count": 1},
        {"data_collection": "ORCLPDB1.DEBEZIUM.ORDER", "event_count": 1},
    ],
}
SCHEMA_CHANGE = {  # oracle.adoc, "Schema change topic" (tableChanges abridged)
    "source": SOURCE,
    "ts_ms": 1588252618953,
    "ts_us": 1588252618953987,
    "ts_ns": 1588252618953987512,
    "databaseName": "ORCLPDB1",
    "schemaName": "DEBEZIUM",
    "ddl": 'CREATE TABLE "DEBEZIUM"."CUSTOMERS" ("ID" NUMBER(9,0) NOT NULL ENABLE)',
    "tableChanges": [{"type": "CREATE", "id": '"ORCLPDB1"."DEBEZIUM"."CUSTOMERS"'}],
}
SCHEMA_CHANGE_SCHEMA = _struct(
    "io.debezium.connector.oracle.SchemaChangeValue",
    [_field(k, "string") for k in SCHEMA_CHANGE if k not in ("source", "tableChanges")],
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            _json({**ODD_ROW, "__deleted": "false"}),
            ChangeEvent("r", {"id": 7}, ODD_ROW),
            id="flattened-payload-only",
        ),
        pytest.param(
            _json({**ODD_ROW, "__op": "u", "__deleted": "false"}),
            ChangeEvent("u", {"id": 7}, ODD_ROW),
            id="flattened-with-op-field",
        ),
        pytest.param(
            _json({**ODD_ROW, "__deleted": "true"}),
            ChangeEvent("d", {"id": 7}, None, ODD_ROW),
            id="flattened-delete",
        ),
        pytest.param(
            _json({"schema": ODD_VALUE_SCHEMA, "payload": ODD_ROW}),
            ChangeEvent("r", {"id": 7}, ODD_ROW),
            id="flattened-with-schema",
        ),
        pytest.param(
            _json(
                {
                    "schema": ODD_ENVELOPE_SCHEMA,
                    "payload": {
                        "before": None,
                        "after": ODD_ROW,
                        "source": SOURCE,
                        "op": "c",
                        "ts_ms": 1,
                    },
                }
            ),
            ChangeEvent("c", {"id": 7}, ODD_ROW, None, "DEBEZIUM.CUSTOMERS", None, 1520085154000),
            id="envelope-of-the-same-row",
        ),
        pytest.param(
            _json({"id": 1, "status": "END", "event_count": 3, "data_collections": "x"}),
            ChangeEvent(
                "r",
                {"id": 7},
                {"id": 1, "status": "END", "event_count": 3, "data_collections": "x"},
            ),
            id="row-with-transaction-like-columns",
        ),
        pytest.param(
            _json({"id": 1, "ddl": "CREATE TABLE t (x int)", "tableChanges": "none"}),
            ChangeEvent(
                "r", {"id": 7}, {"id": 1, "ddl": "CREATE TABLE t (x int)", "tableChanges": "none"}
            ),
            id="row-with-a-ddl-column",
        ),
        pytest.param(
            _json(
                {
                    "schema": _struct("server1.APP.T.Value", [_field("ts_ms", "int64")]),
                    "payload": {"ts_ms": 5},
                }
            ),
            ChangeEvent("r", {"id": 7}, {"ts_ms": 5}),
            id="row-of-one-ts_ms-column-named-by-its-schema",
        ),
    ],
)
def test_rows_with_envelope_like_columns_are_rows(value: bytes, expected: ChangeEvent) -> None:
    assert decode_record(KEY, value) == expected


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        pytest.param(
            HEARTBEAT_KEY,
            _json({"schema": HEARTBEAT_SCHEMA, "payload": {"ts_ms": 1700000000000}}),
            "heartbeat",
            id="heartbeat-with-schema",
        ),
        pytest.param(
            _json({"serverName": "server1"}),
            _json({"ts_ms": 1700000000000}),
            "heartbeat",
            id="heartbeat-payload-only",
        ),
        pytest.param(
            _json({"id": "5.6.641"}),
            _json({"schema": TRANSACTION_SCHEMA, "payload": TRANSACTION_END}),
            "transaction metadata",
            id="transaction-end-with-schema",
        ),
        pytest.param(
            _json({"id": "5.6.641"}),
            _json(TRANSACTION_BEGIN),
            "transaction metadata",
            id="transaction-begin-payload-only",
        ),
        pytest.param(
            _json({"id": "5.6.641"}),
            _json(TRANSACTION_END),
            "transaction metadata",
            id="transaction-end-payload-only",
        ),
        pytest.param(
            _json({"databaseName": "ORCLPDB1"}),
            _json({"schema": SCHEMA_CHANGE_SCHEMA, "payload": SCHEMA_CHANGE}),
            "schema change",
            id="schema-change-with-schema",
        ),
        pytest.param(
            _json({"databaseName": "ORCLPDB1"}),
            _json(SCHEMA_CHANGE),
            "schema change",
            id="schema-change-payload-only",
        ),
    ],
)
def test_records_that_are_not_row_changes_say_so(key: bytes, value: bytes, kind: str) -> None:
    with pytest.raises(NotARowChange) as caught:
        decode_record(key, value)
    assert caught.value.kind == kind
    assert isinstance(caught.value, DecodeError)  # every other reader still refuses it
    assert caught.value.reason == f"not a row change event ({kind})"


@pytest.mark.parametrize(
    ("payload", "schema_name", "expected"),
    [
        ({"before": None, "after": {"ID": 1}, "source": SOURCE, "op": "c"}, None, "envelope"),
        (
            {"before": None, "after": {"ID": 1}, "source": SOURCE, "op": "c", "transaction": None},
            None,
            "envelope",
        ),
        ({**ODD_ROW}, None, "flattened"),
        ({**ODD_ROW}, "server1.public.orders.Value", "flattened"),
        ({"before": None, "after": {}, "op": "c"}, "server1.public.orders.Envelope", "envelope"),
        # a keyless table whose columns all carry envelope names, told apart by its schema
        ({"op": "c", "after": "x"}, "server1.public.log.Value", "flattened"),
        ({"ts_ms": 1}, "io.debezium.connector.common.Heartbeat", "heartbeat"),
        ({"ts_ms": 1}, None, "heartbeat"),
        (TRANSACTION_BEGIN, None, "transaction metadata"),
        (SCHEMA_CHANGE, None, "schema change"),
        ({"after": {}, "source": SOURCE}, None, "unknown"),
        # an envelope's fields and another: a newer envelope, or a row? refused, not guessed
        ({"before": None, "after": {}, "source": SOURCE, "op": "c", "ts_xs": 1}, None, "unknown"),
        (
            {"before": None, "after": {}, "source": SOURCE, "op": "c", "ts_xs": 1},
            "a.b.Envelope",
            "envelope",
        ),
    ],
)
def test_shape_of(payload: dict[str, Any], schema_name: str | None, expected: str) -> None:
    assert shape_of(payload, schema_name) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (_json({**ODD_ROW, "__deleted": "false"}), "flattened"),
        (_json({"schema": ODD_VALUE_SCHEMA, "payload": ODD_ROW}), "flattened"),
        (_json({"before": None, "after": ODD_ROW, "source": SOURCE, "op": "c"}), "envelope"),
        (_json({"ts_ms": 1}), "not a row change"),
        (_json(TRANSACTION_END), "not a row change"),
        (_json({"schema": HEARTBEAT_SCHEMA, "payload": {"ts_ms": 1}}), "not a row change"),
        (b"{not json", "other"),
    ],
)
def test_record_shape_uses_the_same_rule(value: bytes, expected: str) -> None:
    assert record_shape(value) == expected


def test_an_envelope_with_fields_of_unknown_kind_is_refused_with_the_reason() -> None:
    value = {"before": None, "after": {"ID": 1}, "source": SOURCE, "op": "c", "ts_xs": 1}
    with pytest.raises(DecodeError, match="are an envelope's and more, without a schema"):
        decode_record(KEY, _json(value))
