"""Database values → JSON values, the same for relay, consumer and bootstrap."""

from __future__ import annotations

import base64
import datetime as dt
import math
import struct
import uuid
from decimal import Decimal
from typing import Any, Literal

DROP: Any = object()
"""Returned for values that are configured away (binary columns by default)."""

EXACT_INTEGER = 2**53
"""Meilisearch filters and sorts numbers as 64-bit floats: integers beyond this are strings."""
_AS_IS: frozenset[type] = frozenset({str, bool, type(None)})
"""Value types `to_json_value` returns unchanged whatever the options."""


class UnconvertibleValue(ValueError):
    """A value that has no faithful JSON form."""


def shortest_float32(value: float) -> float:
    """The float nearest to the shortest decimal that reads back as `value`'s IEEE-754 binary32.

    A BINARY_FLOAT (a Java ``float``) is ``1.1`` in JSON but ``1.100000023841858``
    once an Avro reader widens it to a double; both give ``1.1`` here. `value` is
    first rounded to binary32; non-finite values come back as they are, and a
    finite value beyond binary32's range raises ValueError.
    """
    if not math.isfinite(value):
        return value
    try:
        single = _as_float32(value)
    except OverflowError:
        raise ValueError(f"{value!r} is beyond float32's range") from None
    for digits in range(1, 10):  # 9 significant digits always read back (IEEE-754)
        candidate = float(f"{single:.{digits}g}")
        if _reads_back(candidate, single):
            return candidate
    return single


def _as_float32(value: float) -> float:
    single: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return single


def _reads_back(candidate: float, single: float) -> bool:
    try:
        return _as_float32(candidate) == single
    except OverflowError:  # rounded up past the largest binary32 (3.403e38)
        return False


def decimal_to_json(value: Decimal, decimals: Literal["float", "string"] = "string") -> Any:
    """The same number, never rounded: a JSON integer or float where that is exact, else a string.

    Integral values a 64-bit float holds (|n| <= 2**53) become integers: Meilisearch
    filters and sorts numbers as such floats. Other integral values become their
    digits as a string. A
    fraction becomes a float when the float's shortest form is the same number,
    otherwise (unless ``decimals="float"`` asks for the float anyway) the exact
    decimal string, in plain notation: ``format(value, "f")`` neither rounds to
    a context precision (``normalize`` does, to 28 digits) nor switches to an
    exponent (``str`` does for small and large exponents).
    """
    if not value.is_finite():
        raise UnconvertibleValue(f"non-finite number {value}")
    integral = value.to_integral_value()
    if value == integral:
        if -EXACT_INTEGER <= value <= EXACT_INTEGER:
            return int(value)
        return format(integral, "f")  # no int(): str() of an int is limited to 4300 digits
    as_float = float(value)
    if math.isfinite(as_float) and (decimals == "float" or Decimal(repr(as_float)) == value):
        return as_float
    return format(value, "f")


def to_json_value(
    value: Any,
    *,
    decimals: Literal["float", "string"] = "string",
    binary: Literal["drop", "base64"] = "drop",
) -> Any:
    """Convert one column value; JSON values pass through unchanged (idempotent)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if -EXACT_INTEGER <= value <= EXACT_INTEGER else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnconvertibleValue(f"non-finite number {value}")
        return value
    if isinstance(value, Decimal):
        return decimal_to_json(value, decimals)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        if binary == "drop":
            return DROP
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):  # a nested row (a composed document's child): drops as a row
        return row_to_json(value, decimals=decimals, binary=binary)
    if isinstance(value, list | tuple):
        return [to_json_value(v, decimals=decimals, binary=binary) for v in value]
    read = getattr(value, "read", None)  # database LOB handles
    if callable(read):
        return to_json_value(read(), decimals=decimals, binary=binary)
    raise UnconvertibleValue(f"unsupported value type {type(value).__name__}")


def row_to_json(
    row: dict[str, Any],
    *,
    decimals: Literal["float", "string"] = "string",
    binary: Literal["drop", "base64"] = "drop",
) -> dict[str, Any]:
    """A whole row image; dropped columns are left out."""
    out = {}
    for column, value in row.items():
        kind = value.__class__
        if kind in _AS_IS or (kind is int and -EXACT_INTEGER <= value <= EXACT_INTEGER):
            out[str(column)] = value  # the common values, without the conversion call
            continue
        converted = to_json_value(value, decimals=decimals, binary=binary)
        if converted is not DROP:
            out[str(column)] = converted
    return out
