"""Kafka record → ChangeEvent, for every format the consumer accepts (SPEC §4).

Accepted: our relay's format; Debezium JSON envelopes, payload-only or with the
Kafka Connect schema envelope (logical types decoded, see ``debezium.py``);
rows flattened by ExtractNewRecordState (``__deleted`` / ``__op`` and the other
``__`` metadata fields); tombstones; truncate events.

Envelope, flattened row or neither is decided by the shape Debezium guarantees
(``shapes.py``), never by a column's name. Records that are valid Debezium output
but not row changes (heartbeats, schema changes, transaction metadata) raise
``NotARowChange``: the consumer skips and counts them. Everything else raises
``DecodeError`` with the reason, and the consumer sends the record to the
dead-letter topic. No other exception type leaves ``decode_record``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, cast, get_args

import orjson

from cdc_sync.errors import TerminalError, TransientError
from cdc_sync.events.avro import AvroReader
from cdc_sync.events.debezium import SchemaValueError, decode_with_schema, plain
from cdc_sync.events.encode import CONNECTOR
from cdc_sync.events.model import ChangeEvent, Op
from cdc_sync.events.shapes import ENVELOPE_FIELDS, NOT_ROW_CHANGES, Shape, shape_of

AvroDecoder = Callable[[bytes], Any]
"""Confluent wire-format bytes → the decoded object (a dict for a record)."""

OPS: frozenset[str] = frozenset(get_args(Op))
_ROW_OPS = frozenset({"c", "u", "r"})
_CONFLUENT_MAGIC = b"\x00"
_EXACT_JSON = json.JSONDecoder(parse_float=Decimal)
_NUMBER_CHARS = bytes(0x30 if chr(b) in "0123456789." else 0x20 for b in range(256))
"""`bytes.translate` table: digits and points → ``0``, anything else → a space."""
_LONG_RUN = b"0" * 16
_INT64_BOUND = 2**63


class DecodeError(TerminalError):
    """A record that is not a change event we can read; ``reason`` says why."""

    code = "decode_error"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class NotARowChange(DecodeError):
    """A record that is valid Debezium output but changes no row (``kind`` says what it is):
    the consumer skips and counts it, where other readers refuse it as any DecodeError."""

    code = "not_a_row_change"

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"not a row change event ({kind})")


def decode_record(
    key: bytes | None, value: bytes | None, *, avro: AvroDecoder | None = None
) -> ChangeEvent:
    """Decode one Kafka record (raw key and value bytes) into a change event.

    A missing (null) key is a table without a primary key: the mapper takes the key
    from the row image (``after``, or a delete's ``before``), and a tombstone without a
    key raises ``NotARowChange``. ``avro`` decodes records in
    the Confluent wire format; without it such records are a ``DecodeError``.
    ``table`` is ``SCHEMA.TABLE`` when the event names the schema. Raises
    ``DecodeError``, including for Debezium messages that are not row changes,
    and ``TransientError`` only from ``avro`` (a schema registry that does not
    answer: retry the record later).
    """
    try:
        return _decode(key, value, avro)
    except (DecodeError, TransientError):
        raise
    except Exception as exc:  # anything unforeseen is still just a bad record
        raise DecodeError(f"cannot decode record: {type(exc).__name__}: {exc}") from exc


def _decode(key: bytes | None, value: bytes | None, avro: AvroDecoder | None) -> ChangeEvent:
    key_values = _decode_key(key, avro)
    payload, schema_name = (None, None) if value is None else _load(value, "value", avro)
    if payload is None:
        if not key_values:  # after a delete in a table without a primary key (null key)
            raise NotARowChange("tombstone without a key")
        return ChangeEvent(op="d", key=key_values)
    if not isinstance(payload, dict):
        raise DecodeError(f"value is not a JSON object but {_kind(payload)}")
    event = event_from_payload(payload, key_values, schema_name)
    if event.op == "d" and not key_values and not event.before:
        raise DecodeError("delete without a record key or a row image")
    return event


def relay_row(key: bytes | None, value: bytes | None) -> tuple[dict[str, Any], int | None] | None:
    """A row image written by our relay (op c, u or r), read without building an event:
    (the ``after`` row, the source's ts_ms). None for every other record, which
    `decode_record` then reads and judges; where this returns a row, `decode_record`
    returns an event with the same op class, ``after`` and ``ts_ms``.

    The consumer's bulk: one parse of key and value and a few checks per record.
    The key must be a JSON object, as `decode_record` requires; its values are not
    needed here (the caller falls back when the row lacks a key column).
    """
    if key is None or value is None or value[:1] != b"{" or key[:1] != b"{":
        return None
    try:
        payload = orjson.loads(value)
        key_object = orjson.loads(key)
    except orjson.JSONDecodeError:
        return None
    if payload.__class__ is not dict or key_object.__class__ is not dict:
        return None
    source = payload.get("source")
    after = payload.get("after")
    op = payload.get("op")
    if (
        op.__class__ is not str
        or op not in _ROW_OPS
        or source.__class__ is not dict
        or source.get("connector") != CONNECTOR
        or after.__class__ is not dict
        or (payload.get("before") is not None and payload["before"].__class__ is not dict)
        or not payload.keys() <= ENVELOPE_FIELDS
        or _is_schema_envelope(key_object)
    ):
        return None
    ts_ms = source.get("ts_ms", payload.get("ts_ms"))
    return after, ts_ms if ts_ms.__class__ is int else None


RecordShape = Literal["envelope", "flattened", "not a row change", "tombstone", "other"]


def record_shape(value: bytes | None, *, avro: AvroDecoder | None = None) -> RecordShape:
    """What a record value is: a change envelope, a row flattened by ExtractNewRecordState
    (which drops truncate events), a record that changes no row (a heartbeat, …), a
    tombstone, or anything else. Raises only ``TransientError`` (a schema registry that does
    not answer)."""
    if value is None:
        return "tombstone"
    try:
        payload, schema_name = _load(value, "value", avro)
    except DecodeError:
        return "other"
    if payload is None:
        return "tombstone"
    if not isinstance(payload, dict) or not payload:
        return "other"
    shape = shape_of(payload, schema_name)
    if shape in NOT_ROW_CHANGES:
        return "not a row change"
    return shape if shape == "envelope" or shape == "flattened" else "other"


def _decode_key(key: bytes | None, avro: AvroDecoder | None) -> dict[str, Any]:
    if key is None:
        return {}
    payload, _ = _load(key, "key", avro)
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise DecodeError(f"key is not a JSON object but {_kind(payload)}")
    return payload


def _load(data: bytes, what: str, avro: AvroDecoder | None) -> tuple[Any, str | None]:
    """Raw bytes → (the payload object, its schema's name where one travels with it),
    dispatching on the first byte."""
    if data[:1] == _CONFLUENT_MAGIC:  # never the start of a JSON text
        if avro is None:
            raise DecodeError(
                f"{what}: Avro records need a schema registry (kafka.schema_registry_url)"
            )
        try:  # Python values, semantic types applied (events/avro.py)
            return avro.read(data) if isinstance(avro, AvroReader) else (avro(data), None)
        except TerminalError as exc:
            raise DecodeError(f"{what}: {exc}") from None
    return _unwrap(_parse_json(data, what), what)


def _parse_json(data: bytes, what: str) -> Any:
    """Parse fast (orjson); parse exactly where a number may be longer than a float holds.

    That is a schema envelope (a Decimal may come as a JSON number), or JSON from
    another producer with a number orjson may not read exactly (`_may_lose_digits`).
    Our relay writes such numbers as strings, so its records always take the fast path.
    """
    try:
        parsed = orjson.loads(data)
        if not _is_schema_envelope(parsed) and (
            _from_our_relay(parsed) or len(data) < 16 or not _may_lose_digits(data)
        ):
            return parsed
    except orjson.JSONDecodeError:
        pass  # the exact parser decides (it also takes NaN and integers past 64 bits)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{what} is not UTF-8: {exc}") from None
    try:
        parsed = _EXACT_JSON.decode(text)
    except ValueError as exc:
        raise DecodeError(f"{what} is not JSON: {exc}") from None
    return parsed if _is_schema_envelope(parsed) else plain(parsed)


def _may_lose_digits(data: bytes) -> bool:
    """Whether orjson may have read a number of `data` as a different one.

    orjson reads fractions and exponents as the nearest double, and integers past
    64 bits as doubles too. Only a run of 16 or more digits and points can hold
    such a number (a double holds any 15 significant digits); such runs are rare,
    so most records cost one `translate` and one substring search. A fraction that
    is its double's shortest spelling (what JSON writers emit for doubles) is
    read exactly. Numbers inside strings may ask for the exact parse needlessly.
    """
    marked = data.translate(_NUMBER_CHARS)
    start = marked.find(_LONG_RUN)
    while start >= 0:
        end = marked.find(b" ", start)
        end = len(data) if end < 0 else end
        if _loses_digits(data[start:end], data[end : end + 1]):
            return True
        start = marked.find(_LONG_RUN, end)
    return False


def _loses_digits(run: bytes, after: bytes) -> bool:
    if after in (b"e", b"E"):
        return True
    if b"." not in run:
        return len(run) >= 19 and int(run) > _INT64_BOUND
    if len(run) <= 16:  # 15 digits and a point
        return False
    try:
        return repr(float(run)) != run.decode("ascii")
    except ValueError:  # several points: not one number, the exact parser judges
        return True


def _from_our_relay(parsed: Any) -> bool:
    source = parsed.get("source") if parsed.__class__ is dict else None
    return source.__class__ is dict and source.get("connector") == CONNECTOR


def _is_schema_envelope(parsed: Any) -> bool:
    return (
        isinstance(parsed, dict) and len(parsed) == 2 and "schema" in parsed and "payload" in parsed
    )


def _unwrap(parsed: Any, what: str) -> tuple[Any, str | None]:
    """Unwrap the Kafka Connect schema envelope, decoding logical types."""
    if not _is_schema_envelope(parsed):
        return parsed, None
    schema = parsed["schema"]
    name = schema.get("name") if isinstance(schema, dict) else None
    try:
        payload = decode_with_schema(schema, parsed["payload"], what)
    except SchemaValueError as exc:
        raise DecodeError(str(exc)) from None
    return payload, name if isinstance(name, str) else None


def event_from_payload(
    payload: dict[str, Any], key: dict[str, Any] | None = None, schema_name: str | None = None
) -> ChangeEvent:
    """A decoded value object → event with the record's `key` (none for a truncate);
    `schema_name` is the name of the value's schema where one travelled with it."""
    key = key or {}
    if not payload:
        raise DecodeError("unknown event shape: an empty object")
    shape: Shape = shape_of(payload, schema_name)
    if shape == "envelope":
        return _from_envelope(payload, key)
    if shape in NOT_ROW_CHANGES:
        raise NotARowChange(shape)
    if shape == "unknown" and "op" in payload:
        raise DecodeError(
            f"unknown event shape: keys {sorted(payload)} are an envelope's and more, without "
            "a schema to tell an envelope (schemas on, or Avro) from a row"
        )
    if shape == "unknown":
        raise DecodeError(f"unknown event shape: keys {sorted(payload)} but no 'op'")
    return _from_flattened(payload, key)


def _from_envelope(payload: dict[str, Any], key: dict[str, Any]) -> ChangeEvent:
    op = _op(payload.get("op"), "op")
    source = payload.get("source")
    source = source if isinstance(source, dict) else {}
    before = _row(payload.get("before"), "before")
    after = _row(payload.get("after"), "after")
    if op in _ROW_OPS and after is None:
        raise DecodeError(f"op {op!r} without an 'after' row image")
    if op in ("d", "t"):
        after = None
    return ChangeEvent(
        op=op,
        key={} if op == "t" else key,
        after=after,
        before=before,
        table=_qualified(source.get("schema"), source.get("table")),
        change_id=_int_or_none(source.get("change_id")),
        ts_ms=_int_or_none(source.get("ts_ms", payload.get("ts_ms"))),
        source=source or None,
    )


def _from_flattened(payload: dict[str, Any], key: dict[str, Any]) -> ChangeEvent:
    row = {k: v for k, v in payload.items() if not k.startswith("__")}
    deleted = str(payload.get("__deleted", "false")).lower() == "true"
    op = _op(payload["__op"], "__op") if "__op" in payload else "r"
    if op == "t":
        raise DecodeError("__op 't' on a flattened row")
    if deleted:
        op = "d"
    return ChangeEvent(
        op=op,
        key=key,
        after=None if op == "d" else row,
        before=row if op == "d" else None,
        table=_qualified(payload.get("__schema"), payload.get("__table")),
        ts_ms=_int_or_none(payload.get("__source_ts_ms", payload.get("__ts_ms"))),
    )


def _op(value: Any, field: str) -> Op:
    if value not in OPS:
        raise DecodeError(f"unknown {field} {value!r} (expected one of {sorted(OPS)})")
    return cast(Op, value)


def _row(value: Any, field: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise DecodeError(f"{field!r} is not an object but {_kind(value)}")


def _qualified(schema: Any, table: Any) -> str | None:
    """``SCHEMA.TABLE`` like ``TableSettings.qualified_name`` when the schema is known."""
    if not isinstance(table, str):
        return None
    return f"{schema}.{table}" if isinstance(schema, str) and schema else table


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return "a number"
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return names.get(type(value), f"a {type(value).__name__}")
