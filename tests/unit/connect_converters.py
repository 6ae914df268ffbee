"""Kafka Connect's converters and ExtractNewRecordState, for ``debezium_oracle``'s rows.

Serialises the Connect-level records the way the connector's converter does:
JsonConverter (bytes and Decimal as base64, structs as objects, with or without the
schema envelope) and AvroData (named types carry ``connect.name`` and
``connect.parameters``, optional fields are ``["null", T]`` unions), in the Confluent
wire format; ExtractNewRecordState with ``delete.tombstone.handling.mode=rewrite``
gives the row plus ``__deleted``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any, Literal

import fastavro

from tests.unit.debezium_oracle import DECIMAL, Connector, key_field, row_fields, unscaled


def _json_value(schema: dict[str, Any], value: Any) -> Any:
    """JsonConverter: bytes and Decimal as base64, structs as objects."""
    if value is None:
        return None
    if schema.get("name") == DECIMAL:
        return base64.b64encode(unscaled(value)).decode()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if schema.get("type") == "struct":
        kinds = {f["field"]: f for f in schema["fields"]}
        return {k: _json_value(kinds[k], v) for k, v in value.items()}
    return value


_AVRO_TYPES = {"int8": "int", "int16": "int", "int32": "int", "int64": "long", "float": "float"}


def _avro_schema(schema: dict[str, Any], defined: set[str]) -> Any:
    """AvroData's schema for a Connect schema (named types carry connect.name; a record
    type met again is referred to by its full name, as Avro requires)."""
    kind, name = schema["type"], schema.get("name")
    if kind == "struct" and name in defined:
        return name
    if kind == "struct":
        defined.add(name)
        namespace, _, short = name.rpartition(".")
        fields = [_avro_field(f, defined) for f in schema["fields"]]
        out: dict[str, Any] = {"type": "record", "name": short, "namespace": namespace}
        out["fields"] = fields
    else:
        out = {"type": _AVRO_TYPES.get(kind, kind)}
        if kind in ("int8", "int16"):
            out["connect.type"] = kind
    if name:
        out["connect.version"] = 1
        out["connect.name"] = name
    if name == DECIMAL:
        parameters = schema["parameters"]
        scale = int(parameters["scale"])
        precision = int(parameters["connect.decimal.precision"])
        out |= {"logicalType": "decimal", "scale": scale, "precision": precision}
        out["connect.parameters"] = parameters
    elif name == "org.apache.kafka.connect.data.Timestamp":
        out["logicalType"] = "timestamp-millis"
    return out


def _avro_field(field: dict[str, Any], defined: set[str]) -> dict[str, Any]:
    kind = _avro_schema(field, defined)
    if field.get("optional"):
        return {"name": field["field"], "type": ["null", kind], "default": None}
    return {"name": field["field"], "type": kind}


def _avro_datum(schema: dict[str, Any], value: Any) -> Any:
    if value is None:
        return None
    if schema.get("name") == "org.apache.kafka.connect.data.Timestamp":
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=value)
    if schema.get("type") == "struct":
        kinds = {f["field"]: f for f in schema["fields"]}
        return {k: _avro_datum(kinds[k], v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None


class AvroRegistry:
    """Schema ids for the Avro records: `lookup` is the registry cdc-sync's AvroReader asks."""

    def __init__(self) -> None:
        self.schemas: dict[int, str] = {}
        self._ids: dict[str, int] = {}
        self._parsed: dict[int, Any] = {}

    def wire(self, schema: dict[str, Any], datum: Any) -> bytes:
        """The Confluent wire format: magic byte, 4-byte schema id, Avro binary body."""
        text = json.dumps(schema, sort_keys=True)
        schema_id = self._ids.setdefault(text, len(self._ids) + 1)
        if schema_id not in self.schemas:
            self.schemas[schema_id] = text
            self._parsed[schema_id] = fastavro.parse_schema(schema)
        out = io.BytesIO()
        out.write(b"\x00" + schema_id.to_bytes(4, "big"))
        fastavro.schemaless_writer(out, self._parsed[schema_id], datum)
        return out.getvalue()

    def lookup(self, schema_id: int) -> str:
        return self.schemas[schema_id]


SOURCE = {
    "connector": "oracle",
    "db": "ORCLPDB1",
    "schema": "DEBEZIUM",
    "table": "TYPE_ALL",
    "scn": "1",
}
_SOURCE_SCHEMA = {
    "type": "struct",
    "name": "io.debezium.connector.oracle.Source",
    "optional": False,
    "fields": [{"type": "string", "optional": False, "field": k} for k in SOURCE],
}


def _row_schema(fields: dict[str, tuple[Any, Any]], flattened: bool) -> dict[str, Any]:
    columns = [{**schema, "field": name} for name, (schema, _) in fields.items()]
    if flattened:
        columns.append({"type": "string", "optional": True, "field": "__deleted"})
    name = "server1.DEBEZIUM.TYPE_ALL.Value"
    return {"type": "struct", "optional": True, "name": name, "fields": columns}


def _row_value(
    fields: dict[str, tuple[Any, Any]], flattened: bool, deleted: bool
) -> dict[str, Any]:
    row = {name: value for name, (_, value) in fields.items()}
    return {**row, "__deleted": "true" if deleted else "false"} if flattened else row


def _envelope_schema(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "struct",
        "optional": False,
        "name": "server1.DEBEZIUM.TYPE_ALL.Envelope",
        "fields": [
            {**row, "field": "before"},
            {**row, "field": "after"},
            {**_SOURCE_SCHEMA, "field": "source"},
            {"type": "string", "optional": False, "field": "op"},
            {"type": "int64", "optional": True, "field": "ts_ms"},
        ],
    }


class Publisher:
    """Serialises Connect-level records the way the connector's converter does."""

    def __init__(self, connector: Connector, registry: AvroRegistry | None = None) -> None:
        self.connector = connector
        self.registry = registry or AvroRegistry()

    def key(self) -> bytes:
        schema, value = key_field(self.connector)
        key_schema = {
            "type": "struct",
            "optional": False,
            "name": "server1.DEBEZIUM.TYPE_ALL.Key",
            "fields": [{**schema, "field": "ID"}],
        }
        return self._serialise(key_schema, {"ID": value})

    def change(self, op: Literal["c", "u", "d"], fields: dict[str, tuple[Any, Any]]) -> Record:
        c = self.connector
        row_schema = _row_schema(fields, c.flattened)
        if c.flattened:  # ExtractNewRecordState, delete.tombstone.handling.mode=rewrite
            return Record(
                self.key(), self._serialise(row_schema, _row_value(fields, True, op == "d"))
            )
        row = _row_value(fields, False, False)
        payload = {
            "before": row if op == "d" else None,
            "after": None if op == "d" else row,
            "source": SOURCE,
            "op": op,
            "ts_ms": 1700000000000,
        }
        return Record(self.key(), self._serialise(_envelope_schema(row_schema), payload))

    def events(self) -> list[tuple[str, Record]]:
        """A create, an update leaving the LOBs unchanged, a delete."""
        return [
            ("create", self.change("c", row_fields(self.connector, "create"))),
            ("update", self.change("u", row_fields(self.connector, "update"))),
            ("delete", self.change("d", row_fields(self.connector, "update"))),
        ]

    def _serialise(self, schema: dict[str, Any], value: dict[str, Any]) -> bytes:
        converter = self.connector.converter
        if converter == "avro":
            return self.registry.wire(_avro_schema(schema, set()), _avro_datum(schema, value))
        payload = _json_value(schema, value)
        if converter == "json-schemaless":
            return json.dumps(payload).encode()
        return json.dumps({"schema": schema, "payload": payload}).encode()
