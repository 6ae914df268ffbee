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


_BINARY32 = struct.Struct("f")


class UnconvertibleValue(ValueError):
    """A value that has no faithful JSON form."""


def shortest_float32(value: float) -> float:
    """The float64 nearest to the shortest decimal that reads back as the same IEEE-754
    binary32 as `value`: 0.10000000149011612 (0.1 stored as a 32-bit float, widened)
    becomes 0.1. This is the number a 32-bit column holds, as people write it (Java's
    ``Float.toString``, PostgreSQL's ``real`` output), never another binary32.

    `value` is taken as a binary32 (rounded to one first); NaN and ±inf are returned as
    they are; ValueError for a finite value beyond the binary32 range.
    """
    if not math.isfinite(value):
        return value
    try:
        single = _BINARY32.unpack(_BINARY32.pack(value))[0]
    except OverflowError:
        raise ValueError(f"{value!r} is not a 32-bit float") from None
    for digits in range(1, 10):  # 9 significant digits always identify a binary32
        candidate = float(f"{single:.{digits}g}")
        try:
            if _BINARY32.unpack(_BINARY32.pack(candidate))[0] == single:
                return candidate
        except OverflowError:  # rounded past the largest binary32
            continue
    return float(single)


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
