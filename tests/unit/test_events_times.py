"""Every time type Debezium sends, in every ``time.precision.mode``: decoded, never nested.

Expectations come from the Debezium snapshot: the values AbstractOracleDatatypesTest.java
inserts (insertTimeTypes 912-929, insertStructuredEdgeTimeTypes 934-951) and what it
expects back per mode (EXPECTED_TIME 225-241, EXPECTED_TIME_AS_ISOSTRING 263-275,
timeTypesAsStructured 674-738, timeTypeEdgesAsStructured 742-805); the type list of
TemporalPrecisionMode.java; the text forms of ZonedTimestamp.java (a fraction of the
column's width, up to 9 digits), IsoTimestamp/IsoDate/IsoTime.java (ISO-8601 at UTC) and
Interval.java (``toIsoString``: PnYnMnDTnHnMnS, seconds without trailing zeros).
Documents are JSON: a time keeps its nanoseconds in its ISO text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import MappingError, Upsert, operation_for_event
from cdc_sync.events.debezium import SchemaValueError, decode_with_schema
from cdc_sync.events.model import ChangeEvent
from cdc_sync.events.values import to_json_value
from tests.unit.debezium_oracle import (
    STRUCTURED_DURATION,
    STRUCTURED_TIMESTAMP,
    STRUCTURED_ZONED_TIMESTAMP,
)


def named(kind: str, name: str) -> dict[str, Any]:
    return {"type": kind, "optional": True, "name": name, "version": 1}


def struct(name: str, *fields: str) -> dict[str, Any]:
    return {
        "type": "struct",
        "optional": True,
        "name": name,
        "fields": [{"type": "int32", "optional": True, "field": f} for f in fields],
    }


def timestamp(
    y: int, mo: int, d: int, h: int, mi: int, s: int, nanos: int, **extra: Any
) -> dict[str, Any]:
    return {
        "year": y,
        "month": mo,
        "day": d,
        "hour": h,
        "minute": mi,
        "second": s,
        "nanos": nanos,
        **extra,
        "specialValue": None,
        "precision": 9,
    }


def duration(*parts: int, precision: int | None = None) -> dict[str, Any]:
    names = ("years", "months", "days", "hours", "minutes", "seconds", "nanos")
    return {**dict(zip(names, parts, strict=True)), "precision": precision}


STRUCTURED_DATE = struct("io.debezium.time.StructuredDate", "year", "month", "day")
STRUCTURED_TIME = struct("io.debezium.time.StructuredTime", "hour", "minute", "second", "nanos")
STRUCTURED_ZONED_TIME = struct(
    "io.debezium.time.StructuredZonedTime", "hour", "minute", "second", "nanos", "offsetSeconds"
)


@pytest.mark.parametrize(
    ("schema", "value", "document"),
    [
        # adaptive: TIMESTAMP(9) '2018-03-27 12:34:56.125456789' (EXPECTED_TIME:233-234)
        pytest.param(
            named("int64", "io.debezium.time.NanoTimestamp"),
            1522154096125456789,
            "2018-03-27T12:34:56.125456789",
            id="nano-timestamp",
        ),
        pytest.param(
            named("int64", "io.debezium.time.NanoTimestamp"),
            -1,
            "1969-12-31T23:59:59.999999999",
            id="nano-timestamp-before-epoch",
        ),
        pytest.param(
            named("int64", "io.debezium.time.NanoTime"),
            45296_000_000_001,
            "12:34:56.000000001",
            id="nano-time",
        ),
        # TIMESTAMP(9) WITH TIME ZONE: ZonedTimestamp with 9 fraction digits
        # (ZonedTimestamp.java, appendFraction(NANO_OF_SECOND, 9, 9, true))
        pytest.param(
            named("string", "io.debezium.time.ZonedTimestamp"),
            "9999-12-31T23:59:59.999999999+14:00",
            "9999-12-31T23:59:59.999999999+14:00",
            id="zoned-timestamp-9-digits",
        ),
        pytest.param(
            named("string", "io.debezium.time.ZonedTimestamp"),
            "2018-03-27T12:34:56.000000100Z",
            "2018-03-27T12:34:56.000000100+00:00",
            id="zoned-timestamp-9-digits-utc",
        ),
        pytest.param(  # EXPECTED_TIME:235, TIMESTAMP WITH TIME ZONE (6 digits)
            named("string", "io.debezium.time.ZonedTimestamp"),
            "2018-03-27T01:34:56.007891-11:00",
            "2018-03-27T01:34:56.007891-11:00",
            id="zoned-timestamp-6-digits",
        ),
        # isostring (EXPECTED_TIME_AS_ISOSTRING:264-268): UTC text, read as adaptive gives it
        pytest.param(
            named("string", "io.debezium.time.IsoTimestamp"),
            "2018-03-27T00:00:00Z",
            "2018-03-27T00:00:00",
            id="iso-timestamp-date",
        ),
        pytest.param(
            named("string", "io.debezium.time.IsoTimestamp"),
            "2018-03-27T12:34:56.13Z",
            "2018-03-27T12:34:56.130000",
            id="iso-timestamp-precision-2",
        ),
        pytest.param(
            named("string", "io.debezium.time.IsoTimestamp"),
            "2018-03-27T12:34:56.125456789Z",
            "2018-03-27T12:34:56.125456789",
            id="iso-timestamp-precision-9",
        ),
        pytest.param(  # IsoDate.java: ISO_OFFSET_DATE at UTC
            named("string", "io.debezium.time.IsoDate"), "2018-03-27Z", "2018-03-27", id="iso-date"
        ),
        pytest.param(  # IsoTime.java: ISO_OFFSET_TIME at UTC ("10:15:30Z")
            named("string", "io.debezium.time.IsoTime"), "10:15:30Z", "10:15:30", id="iso-time"
        ),
        pytest.param(
            named("string", "io.debezium.time.IsoTime"),
            "10:15:30.000000001Z",
            "10:15:30.000000001",
            id="iso-time-nanos",
        ),
        # structured (timeTypesAsStructured:704-738, timeTypeEdgesAsStructured:771-805)
        pytest.param(
            STRUCTURED_TIMESTAMP,
            timestamp(2018, 3, 27, 12, 34, 56, 125_456_789),
            "2018-03-27T12:34:56.125456789",
            id="structured-timestamp",
        ),
        pytest.param(
            STRUCTURED_TIMESTAMP,
            timestamp(2018, 3, 27, 0, 0, 0, 0),
            "2018-03-27T00:00:00",
            id="structured-timestamp-date",
        ),
        pytest.param(
            STRUCTURED_ZONED_TIMESTAMP,
            timestamp(2018, 3, 27, 1, 34, 56, 7_891_000, offsetSeconds=-39_600, zoneId=None),
            "2018-03-27T01:34:56.007891-11:00",
            id="structured-zoned-timestamp",
        ),
        pytest.param(
            STRUCTURED_ZONED_TIMESTAMP,
            timestamp(9999, 12, 31, 23, 59, 59, 999_999_999, offsetSeconds=50_400, zoneId=None),
            "9999-12-31T23:59:59.999999999+14:00",
            id="structured-zoned-timestamp-edge",
        ),
        pytest.param(
            STRUCTURED_DATE,
            {"year": 2018, "month": 3, "day": 27, "specialValue": None},
            "2018-03-27",
            id="structured-date",
        ),
        pytest.param(
            STRUCTURED_TIME,
            {"hour": 12, "minute": 34, "second": 56, "nanos": 7_891_000, "precision": 6},
            "12:34:56.007891",
            id="structured-time",
        ),
        pytest.param(
            STRUCTURED_ZONED_TIME,
            {
                "hour": 1,
                "minute": 2,
                "second": 3,
                "nanos": 4,
                "offsetSeconds": 3600,
                "precision": 9,
            },
            "01:02:03.000000004+01:00",
            id="structured-zoned-time",
        ),
        # INTERVAL '-3-6' YEAR TO MONTH and '-1 2:3:4.56' DAY TO SECOND: the text
        # interval.handling.mode=string gives (Interval.toIsoString)
        pytest.param(
            STRUCTURED_DURATION,
            duration(-3, -6, 0, 0, 0, 0, 0),
            "P-3Y-6M0DT0H0M0S",
            id="structured-duration-year-month",
        ),
        pytest.param(
            STRUCTURED_DURATION,
            duration(0, 0, -1, -2, -3, -4, -560_000_000, precision=2),
            "P0Y0M-1DT-2H-3M-4.56S",
            id="structured-duration-day-second",
        ),
        pytest.param(
            STRUCTURED_DURATION,
            duration(0, 0, -999, -23, -59, -59, -999_999_999, precision=9),
            "P0Y0M-999DT-23H-59M-59.999999999S",
            id="structured-duration-edge",
        ),
        # kept as Debezium sends them
        pytest.param(
            named("string", "io.debezium.time.Interval"),
            "P0Y0M-1DT-2H-3M-4.56S",
            "P0Y0M-1DT-2H-3M-4.56S",
            id="interval-string",
        ),
        pytest.param(  # EXPECTED_TIME:239
            named("int64", "io.debezium.time.MicroDuration"),
            -110451600_000_000,
            -110451600_000_000,
            id="micro-duration",
        ),
        pytest.param(named("int64", "io.debezium.time.NanoDuration"), 5, 5, id="nano-duration"),
        pytest.param(named("int32", "io.debezium.time.Year"), 2018, 2018, id="year"),
    ],
)
def test_time_types(schema: dict[str, Any], value: Any, document: Any) -> None:
    assert to_json_value(decode_with_schema(schema, value, "after.X")) == document


@pytest.mark.parametrize(
    ("schema", "value", "reason"),
    [
        pytest.param(  # StructuredTemporal.java: PostgreSQL's infinity has no instant
            STRUCTURED_TIMESTAMP,
            {**timestamp(0, 0, 0, 0, 0, 0, 0), "specialValue": "POSITIVE_INFINITY"},
            "POSITIVE_INFINITY",
            id="special-value",
        ),
        pytest.param(
            struct("io.debezium.time.Sundial", "hour"),
            {"hour": 1},
            "io.debezium.time.Sundial is not a time type cdc-sync knows",
            id="unknown-time-type",
        ),
        pytest.param(
            named("string", "io.debezium.time.IsoTimestamp"), "yesterday", "yesterday", id="iso-bad"
        ),
        pytest.param(
            named("string", "io.debezium.time.Interval"), 5, "expected a string", id="interval-bad"
        ),
    ],
)
def test_what_does_not_decode_is_refused(schema: dict[str, Any], value: Any, reason: str) -> None:
    with pytest.raises(SchemaValueError) as caught:
        decode_with_schema(schema, value, "after.X")
    assert reason in str(caught.value)


def _schemaless(row: dict[str, Any], fields: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = TableSettings.model_validate(
        {"name": "T", "primary_key": ["ID"], "capture": "debezium", "fields": fields}
    )
    op = operation_for_event(settings, ChangeEvent("c", {"ID": 1}, after={"ID": 1, **row}))
    assert isinstance(op, Upsert)
    return op.document


def test_structured_objects_without_schemas_are_decoded_by_their_fields() -> None:
    """With schemas off a struct arrives as an object holding every field of its schema
    (JsonConverter writes them all, nulls included)."""
    document = _schemaless(
        {
            "TS": timestamp(2018, 3, 27, 12, 34, 56, 125_456_789),
            "TSTZ": timestamp(
                2018, 3, 27, 1, 34, 56, 7_891_000, offsetSeconds=-39_600, zoneId=None
            ),
            "D": {"year": 2018, "month": 3, "day": 27, "specialValue": None},
            "T": {"hour": 12, "minute": 34, "second": 56, "nanos": 0, "precision": None},
            "DS": duration(0, 0, -1, -2, -3, -4, -560_000_000, precision=2),
        }
    )
    assert document == {
        "id": "1",
        "ts": "2018-03-27T12:34:56.125456789",
        "tstz": "2018-03-27T01:34:56.007891-11:00",
        "d": "2018-03-27",
        "t": "12:34:56",
        "ds": "P0Y0M-1DT-2H-3M-4.56S",
    }


def test_a_structured_key_without_schemas_gives_bootstraps_id() -> None:
    settings = TableSettings.model_validate(
        {"name": "T", "primary_key": ["AT"], "capture": "debezium"}
    )
    key = {"AT": timestamp(2018, 3, 27, 12, 34, 56, 7_891_000)}
    op = operation_for_event(settings, ChangeEvent("d", key))
    from_table = operation_for_event(
        settings, ChangeEvent("d", {"AT": dt.datetime(2018, 3, 27, 12, 34, 56, 7891)})
    )
    assert op == from_table


def test_an_untyped_variable_scale_decimal_is_refused_not_nested() -> None:
    with pytest.raises(MappingError) as caught:
        _schemaless({"AMOUNT": {"scale": 3, "value": "AS4L"}})
    assert str(caught.value) == (
        "column AMOUNT (auto): an object (a VariableScaleDecimal without its schema?): type it, "
        'e.g. fields = { AMOUNT = { name = "amount", type = "decimal" } }'
    )
    assert _schemaless(
        {"AMOUNT": {"scale": 3, "value": "AS4L"}}, {"AMOUNT": {"name": "amount", "type": "decimal"}}
    ) == {"id": "1", "amount": 77.323}


def test_other_objects_stay_objects() -> None:
    """Structs Debezium does not name as time or number (a geometry, say) keep their shape."""
    document = _schemaless({"GEO": {"srid": 4326, "x": 1.5}})
    assert document["geo"] == {"srid": 4326, "x": 1.5}
