"""Single-precision float columns (PostgreSQL ``real``, Oracle ``BINARY_FLOAT``): read as the
decimal they hold, bound as the float32 they compare with.

A Python float is a double. python-oracledb returns a BINARY_FLOAT widened to a
double (1.1 comes back as 1.100000023841858), so it is read as the shortest
decimal that is the same float32 (`shortest_float32`: 1.1), as PostgreSQL
prints a ``real``. Bound next to such a column, the database widens the
column's value to a double and compares: the row holding 1.1 (as a float32,
1.100000023841858) is not equal to the double 1.1, and is greater than it, so a
keyset position would re-read its own row and an IN list miss it. Bound as the
float32's own value, widened, the comparison is exact.
"""

from __future__ import annotations

import struct
from typing import Any

from sqlalchemy import TypeDecorator
from sqlalchemy import types as sqltypes

from cdc_sync.events.values import shortest_float32


def as_float32(value: float) -> float:
    """The float32 nearest to `value`, as a Python float (unchanged where none is: too large)."""
    try:
        return float(struct.unpack("f", struct.pack("f", value))[0])
    except OverflowError:
        return value


class Float32(TypeDecorator[float]):
    """A reflected single-precision float column (see the module's docstring)."""

    impl: type[sqltypes.Float[Any]] = sqltypes.REAL
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> float | None:
        return None if value is None else as_float32(float(value))

    def process_result_value(self, value: Any, dialect: Any) -> float | None:
        return None if value is None else shortest_float32(float(value))


def float32_type(dialect: str, kind: sqltypes.TypeEngine[Any]) -> sqltypes.TypeEngine[Any] | None:
    """`Float32` for a PostgreSQL ``real`` column; None for every other type (Oracle's
    BINARY_FLOAT: `cdc_sync.source.oracle.types`)."""
    if dialect == "postgresql" and type(kind) is sqltypes.REAL:
        return Float32()
    return None
