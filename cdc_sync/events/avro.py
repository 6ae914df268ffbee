"""Avro in the Confluent wire format → Python values, Debezium's semantic types applied.

A record is a magic byte 0, the schema id (4 bytes, big-endian) and the Avro
binary body. `AvroReader` asks its `schemas` source for the schema text of an
id once (the registry adapter, ``cdc_sync.kafka.registry``), reads the body with
fastavro, and walks the value alongside the schema: a type named by
``connect.name`` (MicroTimestamp, VariableScaleDecimal, ZonedTimestamp, Decimal,
Date, …) is decoded by the same functions as the JSON path (``debezium.LOGICAL``),
so both give the same values. fastavro's own conversion is switched off for
those types (their ``logicalType`` is dropped); types without ``connect.name``
keep fastavro's logical types.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fastavro

from cdc_sync.errors import TerminalError
from cdc_sync.events.debezium import LOGICAL, SchemaValueError, logical_decoder
from cdc_sync.events.model import UNAVAILABLE
from cdc_sync.events.values import shortest_float32

SchemaSource = Callable[[int], str]
"""Schema id → the Avro schema's JSON text; raises `UnknownSchema` or a TransientError."""

MAGIC = 0
HEADER = 5


class UnknownSchema(TerminalError):
    """The registry does not know the schema id (or it is not an Avro schema)."""

    code = "unknown_schema"


class AvroError(TerminalError):
    """A record that is not readable Avro; `decode.py` turns it into a DecodeError."""

    code = "avro_error"


@dataclass(frozen=True, slots=True)
class _Schema:
    reader: Any
    """fastavro's parsed schema, used to read bodies."""
    walk: Any
    """The same schema with named types expanded, walked to apply semantic types."""
    name: str | None
    """The record's name: Connect's (``connect.name``), else Avro's full name."""


def _without_connect_logical_types(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_connect_logical_types(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _without_connect_logical_types(v) for k, v in node.items()}
    if out.get("connect.name") in LOGICAL:
        out.pop("logicalType", None)  # read the raw int/long/bytes; LOGICAL decodes it
    return out


class AvroReader:
    """Confluent wire-format bytes → the decoded object, semantic types applied."""

    def __init__(self, schemas: SchemaSource) -> None:
        self._schemas = schemas
        self._parsed: dict[int, _Schema] = {}

    def __call__(self, data: bytes) -> Any:
        return self.read(data)[0]

    def read(self, data: bytes) -> tuple[Any, str | None]:
        """The decoded object and its schema's name (``….Envelope`` for a change event)."""
        if len(data) < HEADER or data[0] != MAGIC:
            raise AvroError(f"not the Confluent wire format ({len(data)} bytes)")
        schema_id = int.from_bytes(data[1:HEADER], "big")
        schema = self._parsed.get(schema_id) or self._load(schema_id)
        body = io.BytesIO(memoryview(data)[HEADER:])
        try:
            value = fastavro.schemaless_reader(body, schema.reader, None)
        except Exception as exc:
            raise AvroError(f"schema id {schema_id}: unreadable body: {exc}") from None
        if body.tell() != len(data) - HEADER:
            raise AvroError(f"schema id {schema_id}: {len(data) - HEADER - body.tell()} bytes left")
        return decode_avro(schema.walk, value, f"schema id {schema_id}"), schema.name

    def _load(self, schema_id: int) -> _Schema:
        text = self._schemas(schema_id)
        try:
            raw = _without_connect_logical_types(json.loads(text))
            walk = fastavro.parse_schema(raw, expand=True)
            schema = _Schema(fastavro.parse_schema(raw), walk, _name_of(walk))
        except Exception as exc:
            raise UnknownSchema(
                f"schema id {schema_id} is not a valid Avro schema: {exc}"
            ) from None
        self._parsed[schema_id] = schema
        return schema


def _name_of(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    name = schema.get("connect.name") or schema.get("name")
    return name if isinstance(name, str) else None


def _branch(union: list[Any], value: Any) -> Any:
    """The union member a non-null value was written with (Debezium's unions are [null, T])."""
    members = [m for m in union if m != "null"]
    if len(members) == 1:
        return members[0]
    for member in members:
        kind = member.get("type") if isinstance(member, dict) else member
        if _matches(kind, value):
            return member
    return members[0] if members else "null"


_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "record": dict,
    "map": dict,
    "array": list,
    "string": str,
    "enum": str,
    "bytes": bytes,
    "fixed": bytes,
    "boolean": bool,
    "int": int,
    "long": int,
    "float": float,
    "double": float,
}


def _matches(kind: Any, value: Any) -> bool:
    wanted = _PYTHON_TYPES.get(str(kind))
    return wanted is not None and isinstance(value, wanted)


def decode_avro(schema: Any, value: Any, path: str) -> Any:
    """Apply semantic types to a value fastavro read with the (expanded) `schema`."""
    if value is None:
        return None
    if isinstance(schema, list):
        return decode_avro(_branch(schema, value), value, path)
    if not isinstance(schema, dict):
        return _plain(schema, value)
    if value == UNAVAILABLE:
        return UNAVAILABLE
    name = str(schema.get("connect.name"))
    decoder = logical_decoder(name)
    try:
        if decoder is not None:
            return decoder(_connect_view(schema, name), value)
    except SchemaValueError as exc:
        raise AvroError(str(exc)) from None
    except (ValueError, TypeError, ArithmeticError, OverflowError) as exc:
        raise AvroError(f"{path} ({name}): {exc}") from None
    kind = schema.get("type")
    if kind == "record" and isinstance(value, dict):
        fields = {f["name"]: f["type"] for f in schema.get("fields", ())}
        return {k: decode_avro(fields.get(k), v, f"{path}.{k}") for k, v in value.items()}
    if kind == "array" and isinstance(value, list):
        return [decode_avro(schema.get("items"), v, f"{path}[{i}]") for i, v in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        return {k: decode_avro(schema.get("values"), v, f"{path}.{k}") for k, v in value.items()}
    return _plain(kind, value)


def _plain(kind: Any, value: Any) -> Any:
    if kind == "float" and isinstance(value, float):  # a binary32 fastavro widened
        return shortest_float32(value)
    return value


def _connect_view(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """The field schema as the JSON path's decoders read it (name, type, parameters)."""
    parameters = dict(schema.get("connect.parameters") or {})
    if "scale" not in parameters and "scale" in schema:  # a plain Avro decimal
        parameters["scale"] = str(schema["scale"])
    return {"name": name, "type": schema.get("type"), "parameters": parameters}
