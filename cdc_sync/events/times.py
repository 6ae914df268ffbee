"""Debezium's and Kafka Connect's time types (JSON or Avro values) → Python values.

Decoders take the field's Connect schema and the value, like the others in
``debezium.LOGICAL``; ``from_epoch`` decodes an epoch number sent without its schema.
A time with digits below the microsecond (NanoTimestamp, a ZonedTimestamp or
IsoTimestamp of 7 to 9 fraction digits) becomes its ISO-8601 text with 9 fraction
digits: Python's datetime stops at the microsecond, documents are JSON. Every other
time is a ``date``, ``datetime`` or ``time``, written as ISO text later.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

TIME_NAMESPACE = "io.debezium.time."
_EPOCH = dt.datetime(1970, 1, 1)
_FRACTION = re.compile(r"\d{2}:\d{2}:\d{2}\.(\d+)")
Moment = dt.datetime | dt.time | str
"""A datetime or time, or its ISO text when it has nanoseconds."""


def with_nanos(moment: dt.datetime | dt.time, nanos: int) -> Moment:
    """`moment` (to the microsecond) and its second's `nanos`: itself when they add
    nothing, else ISO text with 9 fraction digits (and its offset, if any)."""
    if nanos % 1000 == 0:
        return moment
    text = moment.replace(microsecond=0).isoformat()
    cut = 19 if isinstance(moment, dt.datetime) else 8  # after the seconds
    return f"{text[:cut]}.{nanos:09d}{text[cut:]}"


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r:.40}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 string, got {value!r:.40}")
    return value


def _date(schema: dict[str, Any], value: Any) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=_integer(value))


def _epoch(divisor: int) -> Callable[[dict[str, Any], Any], Moment]:
    # Integer arithmetic: floats would lose microseconds on far dates.
    def decode(schema: dict[str, Any], value: Any) -> Moment:
        nanos = _integer(value) * (1_000_000_000 // divisor)
        moment = _EPOCH + dt.timedelta(microseconds=nanos // 1000)
        return with_nanos(moment, moment.microsecond * 1000 + nanos % 1000)

    return decode


def _time(divisor: int) -> Callable[[dict[str, Any], Any], Moment]:
    def decode(schema: dict[str, Any], value: Any) -> Moment:
        nanos = _integer(value) * (1_000_000_000 // divisor)
        if not 0 <= nanos < 86_400_000_000_000:
            raise ValueError(f"time of day out of range: {value}")
        moment = (_EPOCH + dt.timedelta(microseconds=nanos // 1000)).time()
        return with_nanos(moment, moment.microsecond * 1000 + nanos % 1000)

    return decode


def _nanos_of(text: str) -> int:
    """The fraction of the second an ISO text spells, in nanoseconds (0 without one)."""
    found = _FRACTION.search(text)
    return int(found.group(1)[:9].ljust(9, "0")) if found else 0


def _zoned_timestamp(schema: dict[str, Any], value: Any) -> Moment:
    text = _text(value)
    return with_nanos(dt.datetime.fromisoformat(text), _nanos_of(text))


def _zoned_time(schema: dict[str, Any], value: Any) -> Moment:
    text = _text(value)
    return with_nanos(dt.time.fromisoformat(text), _nanos_of(text))


def _iso_timestamp(schema: dict[str, Any], value: Any) -> Moment:
    """IsoTimestamp: UTC text ("…Z"), read as the naive UTC datetime the epoch types give."""
    text = _text(value)
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return with_nanos(moment, _nanos_of(text))


def _iso_date(schema: dict[str, Any], value: Any) -> dt.date:
    """IsoDate: ``2018-03-27Z`` (a date with its UTC offset)."""
    return dt.date.fromisoformat(_text(value)[:10])


def _iso_time(schema: dict[str, Any], value: Any) -> Moment:
    """IsoTime: ``10:15:30Z``, read as the naive time the epoch types give."""
    text = _text(value)
    moment = dt.time.fromisoformat(text)
    if moment.utcoffset() == dt.timedelta(0):
        moment = moment.replace(tzinfo=None)
    return with_nanos(moment, _nanos_of(text))


def _kept(kind: type) -> Callable[[dict[str, Any], Any], Any]:
    """A type whose value is indexed as Debezium sends it (a number or a text)."""

    def decode(schema: dict[str, Any], value: Any) -> Any:
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(
                f"expected {'a string' if kind is str else 'a number'}, got {value!r:.40}"
            )
        return value

    return decode


EPOCH_UNITS: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "days": _date,
    "seconds": _epoch(1),
    "millis": _epoch(1_000),
    "micros": _epoch(1_000_000),
    "nanos": _epoch(1_000_000_000),
}
"""An epoch number's unit → its decoder, as for Date, Timestamp, MicroTimestamp, NanoTimestamp."""


def from_epoch(value: int, unit: str) -> dt.date | Moment:
    """An epoch number sent without its schema: days → date, else naive UTC datetime."""
    result: dt.date | Moment = EPOCH_UNITS[unit]({}, value)
    return result


TIME_TYPES: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "org.apache.kafka.connect.data.Date": _date,
    "io.debezium.time.Date": _date,
    "org.apache.kafka.connect.data.Timestamp": _epoch(1_000),
    "io.debezium.time.Timestamp": _epoch(1_000),
    "io.debezium.time.MicroTimestamp": _epoch(1_000_000),
    "io.debezium.time.NanoTimestamp": _epoch(1_000_000_000),
    "io.debezium.time.ZonedTimestamp": _zoned_timestamp,
    "io.debezium.time.IsoTimestamp": _iso_timestamp,
    "io.debezium.time.IsoDate": _iso_date,
    "io.debezium.time.IsoTime": _iso_time,
    "org.apache.kafka.connect.data.Time": _time(1_000),
    "io.debezium.time.Time": _time(1_000),
    "io.debezium.time.MicroTime": _time(1_000_000),
    "io.debezium.time.NanoTime": _time(1_000_000_000),
    "io.debezium.time.ZonedTime": _zoned_time,
    "io.debezium.time.MicroDuration": _kept(int),  # microseconds (interval.handling.mode=numeric)
    "io.debezium.time.NanoDuration": _kept(int),
    "io.debezium.time.Interval": _kept(str),  # PnYnMnDTnHnMnS (interval.handling.mode=string)
    "io.debezium.time.Year": _kept(int),
}
"""Time type name → decoder(field schema, value); the structured ones are in ``structured``."""
