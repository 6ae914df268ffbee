"""A field's configured conversion (`FieldSpec.type`) of one column value."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any

from cdc_sync.config import FieldSpec, TableSettings
from cdc_sync.events.debezium import decimal_from
from cdc_sync.events.times import from_epoch
from cdc_sync.events.values import decimal_to_json, to_json_value


def _to_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError(f"{value!r} is not a date or timestamp")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _epoch(value: Any) -> int | float:
    seconds = _to_datetime(value).timestamp()
    return int(seconds) if seconds == int(seconds) else seconds


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "y", "yes", "true", "t"):
        return True
    if text in ("0", "n", "no", "false", "f"):
        return False
    raise ValueError(f"{value!r} is not a boolean")


def _integer(value: Any) -> int:
    number = Decimal(value) if isinstance(value, int | float) else Decimal(str(value).strip())
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{value!r} is not an integer (it would be rounded)")
    return int(number)


def convert(value: Any, spec: FieldSpec, table: TableSettings) -> Any:
    """Apply a field's configured conversion; None stays None."""
    if value is None:
        return None
    if spec.unit is not None and value.__class__ is int:  # an epoch number without its schema
        value = from_epoch(value, spec.unit)
    kind = spec.type
    if kind == "decimal":
        return decimal_to_json(decimal_from(value, spec.scale), table.decimals)
    if kind == "auto":
        return to_json_value(value, decimals=table.decimals, binary=table.binary)
    if kind == "string":
        if isinstance(value, Decimal):
            return format(value, "f")  # the exact digits, never an exponent
        return value if isinstance(value, str) else str(to_json_value(value, binary="base64"))
    if kind == "integer":
        return _integer(value)
    if kind == "float":
        return float(value)
    if kind == "boolean":
        return _boolean(value)
    if kind == "datetime":
        return _to_datetime(value).isoformat() if not isinstance(value, str) else value
    if kind == "epoch":
        return _epoch(value)
    if kind == "epoch_ms":
        return int(_to_datetime(value).timestamp() * 1000)
    if isinstance(value, str):  # base64 of text that already is base64
        return value
    return base64.b64encode(bytes(value)).decode("ascii")
