"""Debezium's and Kafka Connect's time types (JSON or Avro values) → Python values.

Decoders take the field's Connect schema and the value, like the others in
``debezium.LOGICAL``; ``from_epoch`` decodes an epoch number sent without its schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

_EPOCH = dt.datetime(1970, 1, 1)


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


TIME_TYPES: dict[str, Callable[[dict[str, Any], Any], Any]] = {
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
"""Time type name → decoder(field schema, value)."""
