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
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from cdc_sync.errors import TerminalError
from cdc_sync.events.model import UNAVAILABLE

_EPOCH = dt.datetime(1970, 1, 1)
_UNAVAILABLE_BYTES = UNAVAILABLE.encode("ascii")


class SchemaValueError(TerminalError):
    """A value that does not fit its schema; ``decode.py`` turns it into a DecodeError."""


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
    decoder = LOGICAL.get(str(schema.get("name")))
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
    if kind in ("float", "double", "float32", "float64"):
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


def _bytes(value: Any) -> Any:
    return raw_bytes(_b64(value))


def raw_bytes(data: bytes) -> Any:
    """Bytes as they are, but Debezium's placeholder (an unchanged LOB) as the placeholder."""
    return UNAVAILABLE if data == _UNAVAILABLE_BYTES else data


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


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r:.40}")
    return value


def _date(schema: dict[str, Any], value: Any) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=_integer(value))


def _epoch(divisor: int) -> Callable[[dict[str, Any], Any], dt.datetime]:
    # Integer arithmetic: floats would lose microseconds on far dates.
    def decode(schema: dict[str, Any], value: Any) -> dt.datetime:
        return _EPOCH + dt.timedelta(microseconds=_integer(value) * 1_000_000 // divisor)

    return decode


def _time(divisor: int) -> Callable[[dict[str, Any], Any], dt.time]:
    def decode(schema: dict[str, Any], value: Any) -> dt.time:
        micros = _integer(value) * 1_000_000 // divisor
        if not 0 <= micros < 86_400_000_000:
            raise ValueError(f"time of day out of range: {value}")
        return (_EPOCH + dt.timedelta(microseconds=micros)).time()

    return decode


def _zoned_timestamp(schema: dict[str, Any], value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 string, got {value!r:.40}")
    return dt.datetime.fromisoformat(value)


def _zoned_time(schema: dict[str, Any], value: Any) -> dt.time:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 string, got {value!r:.40}")
    return dt.time.fromisoformat(value)


EPOCH_UNITS: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "days": _date,
    "seconds": _epoch(1),
    "millis": _epoch(1_000),
    "micros": _epoch(1_000_000),
    "nanos": _epoch(1_000_000_000),
}
"""An epoch number's unit → its decoder, as for Date, Timestamp, MicroTimestamp, NanoTimestamp."""


def from_epoch(value: int, unit: str) -> dt.date | dt.datetime:
    """An epoch number sent without its schema: days → date, else naive UTC datetime."""
    result: dt.date | dt.datetime = EPOCH_UNITS[unit]({}, value)
    return result


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
        number = Decimal(value.strip())
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite decimal")
        return number
    raise ValueError(f"{type(value).__name__} is not a decimal (set scale for base64 bytes)")


LOGICAL: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "org.apache.kafka.connect.data.Decimal": _decimal,
    "io.debezium.data.VariableScaleDecimal": _variable_scale_decimal,
    "org.apache.kafka.connect.data.Date": _date,
    "io.debezium.time.Date": _date,
    "org.apache.kafka.connect.data.Timestamp": _epoch(1_000),
    "io.debezium.time.Timestamp": _epoch(1_000),
    "io.debezium.time.MicroTimestamp": _epoch(1_000_000),
    "io.debezium.time.NanoTimestamp": _epoch(1_000_000_000),
    "io.debezium.time.ZonedTimestamp": _zoned_timestamp,
    "org.apache.kafka.connect.data.Time": _time(1_000),
    "io.debezium.time.Time": _time(1_000),
    "io.debezium.time.MicroTime": _time(1_000_000),
    "io.debezium.time.NanoTime": _time(1_000_000_000),
    "io.debezium.time.ZonedTime": _zoned_time,
}
"""Logical type name → decoder(field schema, JSON value)."""
