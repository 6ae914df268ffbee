"""Oracle column types cdc-sync reads and binds through SQL of its own (the reflection hook's
Oracle part, `read_type`).

* ``TIMESTAMP WITH TIME ZONE`` / ``WITH LOCAL TIME ZONE``: python-oracledb's thin
  mode cannot fetch a value stored with a region name (DPY-3022, "named time
  zones are not supported in thin mode") and returns the others without their
  offset. They are read as ``SYS_EXTRACT_UTC(col)``, a TIMESTAMP of the instant
  in UTC, which thin mode fetches whatever zone the value was stored with, and
  are published as UTC instants. Values bound against them (a timestamp
  watermark) go in as ``FROM_TZ(CAST(:v AS TIMESTAMP), 'UTC')``, so the
  database compares instants.
* ``BINARY_FLOAT``: read as the shortest decimal of its float32, bound as the
  float32 itself (`cdc_sync.source.float32`).
* ``INTERVAL YEAR TO MONTH``: SQLAlchemy does not know it (it reflects a NullType
  and warns); python-oracledb returns an ``IntervalYM(years, months)``, which is
  published as Debezium's string form of an interval (``interval.handling.mode =
  string``): ``P-3Y-6M0DT0H0M0S`` for ``INTERVAL '-3-6' YEAR TO MONTH``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, TypeDecorator, cast, func, literal_column
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import oracle

from cdc_sync.source.float32 import Float32


class BinaryFloat(Float32):
    """Oracle BINARY_FLOAT: a `Float32`."""

    impl = oracle.BINARY_FLOAT
    cache_ok = True


class IntervalYearToMonth(TypeDecorator[str]):
    """Oracle INTERVAL YEAR TO MONTH, read as ``P<years>Y<months>M0DT0H0M0S`` (see the module)."""

    impl = sqltypes.NullType
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        years, months = getattr(value, "years", None), getattr(value, "months", None)
        if isinstance(years, int) and isinstance(months, int):
            return f"P{years}Y{months}M0DT0H0M0S"
        return value


INTERVAL_YEAR_TO_MONTH = "INTERVAL YEAR TO MONTH"
"""The type's name as SQLAlchemy's reflection looks it up (precisions removed)."""


def know_interval_year_to_month(dialect: Any) -> None:
    """Let the dialect's reflection give INTERVAL YEAR TO MONTH columns their type."""
    names = dialect.ischema_names
    if INTERVAL_YEAR_TO_MONTH not in names:
        dialect.ischema_names = {**names, INTERVAL_YEAR_TO_MONTH: IntervalYearToMonth}


_UTC: ColumnElement[str] = literal_column("'UTC'")


class UtcTimestamp(TypeDecorator[dt.datetime]):
    """A zoned Oracle timestamp, read and bound as the UTC instant (see the module)."""

    impl = oracle.TIMESTAMP
    cache_ok = True

    def __init__(self, local_timezone: bool = False) -> None:
        super().__init__(timezone=not local_timezone, local_timezone=local_timezone)
        self.local_timezone = local_timezone

    def column_expression(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.SYS_EXTRACT_UTC(column, type_=self)

    def bind_expression(self, bindvalue: Any) -> ColumnElement[Any]:
        return func.FROM_TZ(cast(bindvalue, oracle.TIMESTAMP()), _UTC, type_=self)

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value  # naive: already UTC

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


def read_type(kind: sqltypes.TypeEngine[Any]) -> sqltypes.TypeEngine[Any]:
    """The type cdc-sync gives a reflected Oracle column (`kind` where it needs no other)."""
    if isinstance(kind, oracle.TIMESTAMP) and (kind.timezone or kind.local_timezone):
        return UtcTimestamp(local_timezone=kind.local_timezone)
    if isinstance(kind, oracle.BINARY_FLOAT):
        return BinaryFloat()
    return kind
