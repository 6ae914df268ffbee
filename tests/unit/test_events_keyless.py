"""Tables without a primary key in Debezium: the record key is null, so a delete is applied
by the configured `primary_key` columns of its row image, and the tombstone after it (null
key, null value) changes nothing: skipped and counted, never dead-lettered.

Where the expectations come from (Debezium at commit aad5519):
- No key columns, no key schema: ``Schema keySchema = hasPrimaryKey.get() ? … : null``
  (debezium-connector-common/.../relational/TableSchemaBuilder.java:184) and no key generator
  (``createKeyGenerator`` returns null without a schema, :218-254); oracle.adoc, "Change event
  keys": "If the table does not have a primary or unique key, then the change event's key is
  null"; postgresql.adoc, same section (line 695). Kafka's JsonConverter writes a null key
  without schema as no bytes: the record key is null.
- The tombstone after a delete reuses the delete's key (``record.key()``), null here
  (debezium-connector-common/.../pipeline/EventDispatcher.java:546-557).
- PostgreSQL sends a keyless table's updates and deletes only with REPLICA IDENTITY FULL,
  whose ``before`` holds every column (postgresql.adoc, "REPLICA IDENTITY", lines 740-752).
- ExtractNewRecordState in rewrite mode turns a delete into its ``before`` row with
  ``__deleted: "true"``, keeping the record's (null) key
  (debezium-connect-plugins/.../extractnewstate/DefaultDeleteHandlingStrategy.java:70-78).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import Delete, MappingError, Upsert, operation_for_event
from cdc_sync.events.decode import DecodeError, NotARowChange, decode_record

TABLE = TableSettings.model_validate(
    {"name": "AUDIT_LOG", "schema": "APP", "primary_key": ["LOG_ID"], "capture": "debezium"}
)
ROW = {"LOG_ID": 1004, "ACTION": "login", "AT": 1700000000000}
SOURCE = {"connector": "oracle", "name": "server1", "schema": "APP", "table": "AUDIT_LOG"}


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def _envelope(op: str, before: Any, after: Any) -> bytes:
    return _json({"before": before, "after": after, "source": SOURCE, "op": op, "ts_ms": 1})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        pytest.param(None, _envelope("c", None, ROW), Upsert, id="create"),
        pytest.param(None, _envelope("u", ROW, {**ROW, "ACTION": "logout"}), Upsert, id="update"),
        pytest.param(None, _envelope("d", ROW, None), Delete, id="delete"),
        pytest.param(b"null", _envelope("d", ROW, None), Delete, id="delete-json-null-key"),
        pytest.param(None, _json({**ROW, "__deleted": "true"}), Delete, id="flattened-delete"),
        pytest.param(None, _json({**ROW, "__op": "d"}), Delete, id="flattened-op-d"),
    ],
)
def test_a_keyless_table_is_indexed_by_its_configured_primary_key(
    key: bytes | None, value: bytes, expected: type
) -> None:
    op = operation_for_event(TABLE, decode_record(key, value))
    assert isinstance(op, expected)
    assert op.doc_id == "1004"


@pytest.mark.parametrize("key", [None, b"null"])
def test_the_tombstone_after_a_keyless_delete_changes_nothing(key: bytes | None) -> None:
    with pytest.raises(NotARowChange) as caught:
        decode_record(key, None)
    assert caught.value.kind == "tombstone without a key"


def test_a_keyless_delete_without_the_key_columns_is_refused_with_the_reason() -> None:
    """REPLICA IDENTITY DEFAULT or a column excluded by the connector: the row is unknown."""
    event = decode_record(None, _envelope("d", {"ACTION": "login"}, None))
    with pytest.raises(MappingError, match="LOG_ID") as caught:
        operation_for_event(TABLE, event)
    assert "no record key" in str(caught.value) and "before" in str(caught.value)


def test_a_keyless_delete_without_a_row_image_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="delete without a record key or a row image"):
        decode_record(None, _envelope("d", None, None))
