"""Key values from text and JSON back to the values the driver fetches for a key column.

Keys travel as JSON: the triggers log them with the database's JSON function,
and document ids hold them as text (`cdc_sync.sink.ids`). To bind them in a
query and to match them with the rows read back (`images.match_key`), they
are turned back into the Python type the driver returns for the column.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, TypeDecorator
from sqlalchemy import types as sqltypes


def value_type(column: Column[Any]) -> type | None:
    """The Python type of the values the driver returns for `column` (None: unknown).

    Not always the type's `python_type`: SQLAlchemy reflects Oracle ``NUMBER(p)``
    as ``NUMBER(p, 0, asdecimal=False)``, whose `python_type` is float, while
    python-oracledb fetches it as an int; numbers follow ``asdecimal`` and the scale.
    """
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sqltypes.Float):
        return Decimal if kind.asdecimal else float
    if isinstance(kind, sqltypes.Numeric):
        if kind.asdecimal:
            return Decimal
        return int if kind.scale == 0 else float
    if isinstance(kind, sqltypes.Integer):
        return int
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def typed_value(column: Column[Any], value: Any) -> Any:
    """One key value from the change log's JSON as a bind value of `column`'s type."""
    kind = value_type(column)
    if isinstance(value, str) and kind is dt.datetime:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, str) and kind is dt.date:
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, Decimal) and kind is int and value == value.to_integral_value():
        return int(value)
    if isinstance(value, int) and kind is Decimal:
        # SQLAlchemy's Oracle decimal binding formats ints through float ("%.10f").
        return Decimal(value)
    if isinstance(value, int | Decimal) and kind is float:
        # The JSON's shortest digits of a binary float: the same float again.
        return float(value)
    if isinstance(value, str) and kind is bytes:
        # Oracle RAWTOHEX text; PostgreSQL's bytea text has a "\x" prefix.
        return bytes.fromhex(value.removeprefix("\\x"))
    if isinstance(value, int | Decimal) and kind is str:
        return str(value)
    return value


def id_value(column: Column[Any], value: int | str) -> Any:
    """One part of a document id (`cdc_sync.sink.ids.key_values`) as a bind value of
    `column`'s type; ValueError when the text is not such a value.

    Ids hold numbers as their digits (past 2**53, and every pass-through id, as
    text), binary keys as base64 (as the relay's event keys carry them), dates and
    times as ISO 8601 text.
    """
    if not isinstance(value, str):
        return typed_value(column, value)
    kind = value_type(column)
    if kind is int:
        return int(value)
    if kind is float:
        return float(value)
    if kind is Decimal:
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    if kind is bytes:
        return base64.b64decode(value, validate=True)
    if kind is uuid.UUID:
        return uuid.UUID(value)
    return typed_value(column, value)
