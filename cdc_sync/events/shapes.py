"""What a decoded record value is, by the shape Debezium guarantees, never by a column's name.

A table may well have columns named ``source``, ``op``, ``before``, ``after``, ``ddl`` or
``status``. What tells the kinds apart:

- the value's schema name, where one travels (JSON with schemas): a change event's ends with
  ``.Envelope`` (``Envelope.isEnvelopeSchema``, the test Debezium's own SMTs apply), a row's
  with ``.Value`` (a flattened row keeps its table's ``<prefix>.<schema>.<table>.Value``), and
  heartbeats, transaction metadata and schema changes have fixed names (``SchemaFactory``);
- otherwise (JSON without schemas, Avro, our relay) the set of fields and their types: an
  envelope has ``op`` and nothing but envelope fields (``Envelope.ALL_FIELD_NAMES``); a
  heartbeat is an integer ``ts_ms`` alone; transaction metadata and schema changes have their
  schemas' fields, typed as there, and no other. A table's row has some column outside these
  sets (its key, at least), or values of other types. A payload with an envelope's typed
  fields and others besides (a newer envelope, or a row?) is refused, never guessed.
"""

from __future__ import annotations

from typing import Any, Literal

Shape = Literal[
    "envelope", "flattened", "heartbeat", "transaction metadata", "schema change", "unknown"
]
NOT_ROW_CHANGES: frozenset[Shape] = frozenset(
    {"heartbeat", "transaction metadata", "schema change"}
)

ENVELOPE_FIELDS = frozenset(
    {"op", "ts_ms", "ts_us", "ts_ns", "before", "after", "source", "transaction"}
)
TRANSACTION_FIELDS = frozenset({"status", "id", "event_count", "data_collections", "ts_ms"})
SCHEMA_CHANGE_FIELDS = frozenset(
    {"source", "ts_ms", "ts_us", "ts_ns", "databaseName", "schemaName", "ddl", "tableChanges"}
)
_BY_SCHEMA_NAME: tuple[tuple[str, Shape], ...] = (
    (".Envelope", "envelope"),
    (".SchemaChangeValue", "schema change"),
    ("io.debezium.connector.common.TransactionMetadataValue", "transaction metadata"),
    ("io.debezium.connector.common.Heartbeat", "heartbeat"),
    (".Value", "flattened"),
)


def shape_of(payload: dict[str, Any], schema_name: str | None = None) -> Shape:
    """The kind of a decoded, non-empty value object; `schema_name` is its schema's name."""
    if schema_name:
        for suffix, shape in _BY_SCHEMA_NAME:
            if schema_name.endswith(suffix):
                return shape
    fields = payload.keys()
    if fields <= ENVELOPE_FIELDS:
        if "op" in fields:
            return "envelope"
        return "heartbeat" if fields == {"ts_ms"} and _is(payload, "ts_ms", int) else "unknown"
    if _envelope_typed(payload):  # and more: a newer envelope, or a row? not a guess
        return "unknown"
    if fields <= TRANSACTION_FIELDS and _transaction_typed(payload):
        return "transaction metadata"
    if fields <= SCHEMA_CHANGE_FIELDS and _is(payload, "ddl", str, None):
        return "schema change"
    return "flattened"


def _is(payload: dict[str, Any], field: str, *kinds: type | None) -> bool:
    """Whether `field` is present with a value of one of `kinds` (None: null)."""
    if field not in payload:
        return False
    value = payload[field]
    return any(value is None if k is None else isinstance(value, k) for k in kinds)


def _envelope_typed(payload: dict[str, Any]) -> bool:
    """op, source and a row image, typed as in an envelope (a text op, a source object, row
    objects or nulls)."""
    images = [f for f in ("before", "after") if f in payload]
    return (
        _is(payload, "op", str)
        and _is(payload, "source", dict)
        and bool(images)
        and all(_is(payload, f, dict, None) for f in images)
    )


def _transaction_typed(payload: dict[str, Any]) -> bool:
    """status BEGIN or END, a string id, a count and a list of collections (or nulls)."""
    return (
        payload.get("status") in ("BEGIN", "END")
        and _is(payload, "id", str)
        and (_is(payload, "event_count", int, None) or "event_count" not in payload)
        and (_is(payload, "data_collections", list, None) or "data_collections" not in payload)
    )
