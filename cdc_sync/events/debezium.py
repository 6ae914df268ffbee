"""Kafka Connect JSON values + their schema → Python values (Debezium logical types).

``decode_with_schema`` walks a value alongside its Connect schema
(``{"type": "struct", "fields": [...], "name": ...}``) and turns logical types
into ``Decimal``, ``date``, ``datetime`` and ``time``, and ``bytes`` fields
(base64 in JSON) into ``bytes``. Unknown logical names are decoded by their
base type only. Without a schema, ``plain`` keeps values as JSON gives them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from cdc_sync.errors import TerminalError
from cdc_sync.events.model import UNAVAILABLE
from cdc_sync.events.structured import STRUCTURED_TYPES
from cdc_sync.events.times import TIME_NAMESPACE, TIME_TYPES
from cdc_sync.events.values import shortest_float32


class SchemaValueError(TerminalError):
    """A value that does not fit its schema; ``decode.py`` turns it into a DecodeError."""

    code = "schema_value_error"


def plain(value: Any) -> Any:
    """Numbers parsed exactly (``Decimal``) go back to ``float`` where that is the same number.

    A number a float cannot hold stays a ``Decimal``: the mapper keeps its digits.
    """
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def decode_with_schema(schema: Any, value: Any, path: str) -> Any:
    """Decode ``value`` by its Connect ``schema``; ``path`` names it in errors."""
    if value is None:
        return None
    if not isinstance(schema, dict):
        return plain(value)
    if value == UNAVAILABLE:  # Debezium's placeholder, whatever the column type
        return UNAVAILABLE
    decoder = logical_decoder(str(schema.get("name")))
    try:
        if decoder is not None:
            return decoder(schema, value)
        return _by_type(schema, value, path)
    except SchemaValueError:
        raise
    except (ValueError, TypeError, ArithmeticError, OverflowError, binascii.Error) as exc:
        kind = schema.get("name") or schema.get("type")
        raise SchemaValueError(f"{path} ({kind}): {exc}") from None


def _by_type(schema: dict[str, Any], value: Any, path: str) -> Any:
    kind = schema.get("type")
    if kind == "struct":
        return _struct(schema, value, path)
    if kind == "array" and isinstance(value, list):
        return [
            decode_with_schema(schema.get("items"), v, f"{path}[{i}]") for i, v in enumerate(value)
        ]
    if kind == "map" and isinstance(value, dict):
        values = schema.get("values")
        return {k: decode_with_schema(values, v, f"{path}.{k}") for k, v in value.items()}
    if kind == "bytes":
        return _bytes(value)
    if kind in ("float", "float32"):  # Connect's FLOAT32 (a BINARY_FLOAT)
        return shortest_float32(float(value))
    if kind in ("double", "float64"):
        return float(value) if isinstance(value, Decimal) else value
    return plain(value)


def _struct(schema: dict[str, Any], value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaValueError(
            f"{path}: expected an object for a struct, got {type(value).__name__}"
        )
    fields = {f.get("field"): f for f in schema.get("fields") or () if isinstance(f, dict)}
    return {
        name: decode_with_schema(fields.get(name), item, f"{path}.{name}")
        for name, item in value.items()
    }


def _b64(value: Any) -> bytes:
    if isinstance(value, bytes):  # Avro carries bytes as they are
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a base64 string, got {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {value[:40]!r} ({exc})") from None


def _bytes(value: Any) -> bytes:
    return _b64(value)  # the placeholder's bytes too: the mapper knows the table's placeholder


def _unscaled(value: Any, scale: int) -> Decimal:
    if isinstance(value, int | Decimal):  # JsonConverter decimal.format=NUMERIC
        return Decimal(value)
    unscaled = int.from_bytes(_b64(value), "big", signed=True)
    return Decimal(f"{unscaled}E{-scale}")  # exact; scaleb() would round to 28 digits


def _decimal(schema: dict[str, Any], value: Any) -> Decimal:
    parameters = schema.get("parameters") or {}
    if "scale" not in parameters:
        raise ValueError("Decimal schema without parameters.scale")
    return _unscaled(value, int(parameters["scale"]))


def _variable_scale_decimal(schema: dict[str, Any], value: Any) -> Decimal:
    if not isinstance(value, dict) or "scale" not in value or "value" not in value:
        raise ValueError(f"expected {{scale, value}}, got {value!r:.60}")
    return _unscaled(value["value"], int(value["scale"]))


def decimal_from(value: Any, scale: int | None) -> Decimal:
    """A decimal sent without its schema: base64 unscaled bytes with `scale`, a
    VariableScaleDecimal ``{scale, value}``, a numeric string, or a number."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a decimal")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the float's shortest form: what the JSON said
    if isinstance(value, dict):
        return _variable_scale_decimal({}, value)
    if scale is not None and isinstance(value, str | bytes):
        return _unscaled(value, scale)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except ArithmeticError:  # InvalidOperation: not a number, maybe base64 without a scale
            raise ValueError(
                f"{value[:40]!r} is not a decimal number (base64 unscaled bytes need a scale)"
            ) from None
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite decimal")
        return number
    raise ValueError(f"{type(value).__name__} is not a decimal (set scale for base64 bytes)")


LOGICAL: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "org.apache.kafka.connect.data.Decimal": _decimal,
    "io.debezium.data.VariableScaleDecimal": _variable_scale_decimal,
    **TIME_TYPES,
    **STRUCTURED_TYPES,
}
"""Logical type name → decoder(field schema, JSON value)."""


def _unknown_time(schema: dict[str, Any], value: Any) -> Any:
    raise ValueError(f"{schema.get('name')} is not a time type cdc-sync knows")


def logical_decoder(name: str) -> Callable[[dict[str, Any], Any], Any] | None:
    """The decoder of a logical type; a time type we do not know is refused, never indexed
    as Debezium's raw form (an object, an epoch number)."""
    found = LOGICAL.get(name)
    return _unknown_time if found is None and name.startswith(TIME_NAMESPACE) else found
