"""Debezium's structured time (``time.precision.mode=structured``) → Python values.

Each value is a struct of calendar and clock fields (io.debezium.time.Structured*):
timestamps and times become what the epoch types give (nanoseconds kept as ISO text),
zoned ones take ``offsetSeconds``, a StructuredDuration becomes the text
``interval.handling.mode=string`` sends (Debezium's Interval.toIsoString). A special
value (PostgreSQL's infinity) has no instant to index and is refused. Without schemas a
struct arrives as an object with every field of its schema, so ``by_shape`` knows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from cdc_sync.events.times import Moment, with_nanos

Decoder = Callable[[dict[str, Any], Any], Any]


def _fields(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object of calendar and clock fields, got {value!r:.60}")
    special = value.get("specialValue")
    if special is not None:
        raise ValueError(f"special value {special} has no instant to index")
    return value


def _zone(fields: dict[str, Any]) -> dt.timezone:
    return dt.timezone(dt.timedelta(seconds=fields.get("offsetSeconds") or 0))


def _datetime(f: dict[str, Any], tzinfo: dt.tzinfo | None = None) -> dt.datetime:
    micros = (f["nanos"] or 0) // 1000
    return dt.datetime(
        f["year"], f["month"], f["day"], f["hour"], f["minute"], f["second"], micros, tzinfo
    )


def _timestamp(schema: dict[str, Any], value: Any) -> Moment:
    f = _fields(value)
    return with_nanos(_datetime(f), f["nanos"] or 0)


def _zoned_timestamp(schema: dict[str, Any], value: Any) -> Moment:
    f = _fields(value)
    return with_nanos(_datetime(f, _zone(f)), f["nanos"] or 0)


def _date(schema: dict[str, Any], value: Any) -> dt.date:
    f = _fields(value)
    return dt.date(f["year"], f["month"], f["day"])


def _time(schema: dict[str, Any], value: Any) -> Moment:
    f = _fields(value)
    nanos = f["nanos"] or 0
    moment = dt.time(f["hour"], f["minute"], f["second"], nanos // 1000)
    if "offsetSeconds" in f:
        moment = moment.replace(tzinfo=_zone(f))
    return with_nanos(moment, nanos)


def _duration(schema: dict[str, Any], value: Any) -> str:
    """PnYnMnDTnHnMnS, seconds with their fraction and no trailing zeros (Interval.java)."""
    f = _fields(value)
    seconds = Decimal(f["seconds"] or 0) + Decimal(f["nanos"] or 0).scaleb(-9)
    parts = [f[k] or 0 for k in ("years", "months", "days", "hours", "minutes")]
    y, mo, d, h, mi = parts
    return f"P{y}Y{mo}M{d}DT{h}H{mi}M{format(seconds.normalize(), 'f')}S"


_CLOCK = ("hour", "minute", "second", "nanos")
_CALENDAR = ("year", "month", "day")
_KINDS: dict[str, tuple[Decoder, tuple[str, ...]]] = {
    "io.debezium.time.StructuredTimestamp": (
        _timestamp,
        (*_CALENDAR, *_CLOCK, "specialValue", "precision"),
    ),
    "io.debezium.time.StructuredZonedTimestamp": (
        _zoned_timestamp,
        (*_CALENDAR, *_CLOCK, "offsetSeconds", "zoneId", "specialValue", "precision"),
    ),
    "io.debezium.time.StructuredDate": (_date, (*_CALENDAR, "specialValue")),
    "io.debezium.time.StructuredTime": (_time, (*_CLOCK, "precision")),
    "io.debezium.time.StructuredZonedTime": (_time, (*_CLOCK, "offsetSeconds", "precision")),
    "io.debezium.time.StructuredDuration": (
        _duration,
        ("years", "months", "days", "hours", "minutes", "seconds", "nanos", "precision"),
    ),
}
STRUCTURED_TYPES: dict[str, Decoder] = {name: decode for name, (decode, _) in _KINDS.items()}
"""Structured type name → decoder(field schema, value)."""
_SHAPES: dict[frozenset[str], Decoder] = {
    frozenset(fields): decode for decode, fields in _KINDS.values()
}


def by_shape(value: dict[str, Any]) -> Decoder | None:
    """The decoder of a structured time sent without its schema (all its fields, by name)."""
    return _SHAPES.get(frozenset(value))
