"""Key values from text and JSON back to the values the driver fetches for a key column.

Keys travel as JSON: the triggers log them with the database's JSON function,
and document ids hold them as text (`cdc_sync.sink.ids`). To bind them in a
query and to match them with the rows read back (`images.match_key`), they
are turned back into the Python type the driver returns for the column.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Column


def _python_type(column: Column[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def typed_value(column: Column[Any], value: Any) -> Any:
    """One key value from the change log's JSON as a bind value of `column`'s type."""
    kind = _python_type(column)
    if isinstance(value, str) and kind is dt.datetime:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, str) and kind is dt.date:
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, Decimal) and kind is int and value == value.to_integral_value():
        return int(value)
    if isinstance(value, int) and kind is Decimal:
        # SQLAlchemy's Oracle decimal binding formats ints through float ("%.10f").
        return Decimal(value)
    if isinstance(value, str) and kind is bytes:
        # Oracle RAWTOHEX text; PostgreSQL's bytea text has a "\x" prefix.
        return bytes.fromhex(value.removeprefix("\\x"))
    if isinstance(value, int | Decimal) and kind is str:
        return str(value)
    return value
