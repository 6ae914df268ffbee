"""Debezium's Oracle connector as documented: one row's change events under any setting.

A model of what the connector publishes, built only from Debezium's own documentation
and sources (a snapshot of github.com/debezium/debezium, Aug 2026), never from
cdc-sync's output. Paths below are in that repository:

- types per setting: documentation/modules/ROOT/pages/connectors/oracle.adoc, "Data type
  mappings" (binary and LOB types ~2136-2193, numeric types ~2195-2320, temporal types
  ~2348-2560) and OracleValueConverters.java (schemaBuilder ~132-178, getNumericSchema
  ~188-227);
- values: AbstractOracleDatatypesTest.java (inserted rows 900-951; expected values
  EXPECTED_FP 159-172, EXPECTED_INT 205-222, EXPECTED_TIME 225-241, EXPECTED_TIME_AS_CONNECT
  244-261, EXPECTED_TIME_AS_ISOSTRING 263-275, structured 674-738, structured edges
  742-805), OracleBinaryModeIT.java:43-89 (HEXTORAW('010203') in each binary mode);
- binary modes: JdbcValueConverters.java:889-1010 (java.util.Base64 encoder, its URL-safe
  encoder, HexConverter's lower-case hex), OracleValueConverters.java:367-410 (an unchanged
  LOB becomes the placeholder's bytes *before* the mode encodes them);
- unchanged LOBs: oracle.adoc ~2186-2193 and OracleClobDataTypeIT.java:1176 (the
  placeholder in ``after``); with lob.enabled=false a LogMiner insert carries the LOB as
  null (OracleBlobDataTypesIT.java:1206-1211) and a key change carries the placeholder
  (OracleBlobDataTypesIT.java:1278-1282);
- decimal modes: SpecialValueDecimal.java:157-186 (``double``: the double; ``string``:
  ``BigDecimal.toPlainString()``);
- intervals: OracleValueConverters.java:813-1010, Interval.java (``toIsoString``),
  MicroDuration.java;
- time types: TemporalPrecisionMode.java, ZonedTimestamp.java (9 fraction digits for a
  TIMESTAMP(9) WITH TIME ZONE), Iso*.java and Structured*.java in io/debezium/time;
- Connect schema type names are JsonConverter's (``int32``, ``float`` for FLOAT32,
  ``double``, …); ``connect_converters`` serialises the records.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal, get_args

DecimalMode = Literal["precise", "double", "string"]
TimeMode = Literal[
    "adaptive",
    "adaptive_time_microseconds",
    "connect",
    "isostring",
    "microseconds",
    "nanoseconds",
    "structured",
]
BinaryMode = Literal["bytes", "base64", "base64-url-safe", "hex"]
IntervalMode = Literal["numeric", "string"]
Converter = Literal["json", "json-schemaless", "avro"]

DEFAULT_PLACEHOLDER = "__debezium_unavailable_value"  # RelationalDatabaseConnectorConfig:64
DECIMAL_MODES: tuple[DecimalMode, ...] = get_args(DecimalMode)
TIME_MODES: tuple[TimeMode, ...] = get_args(TimeMode)
BINARY_MODES: tuple[BinaryMode, ...] = get_args(BinaryMode)
INTERVAL_MODES: tuple[IntervalMode, ...] = get_args(IntervalMode)
CONVERTERS: tuple[Converter, ...] = get_args(Converter)


@dataclass(frozen=True)
class Connector:
    """The settings a DBA chooses: connector properties and the converter in front of Kafka."""

    decimal: DecimalMode = "precise"
    time: TimeMode = "adaptive"
    binary: BinaryMode = "bytes"
    interval: IntervalMode = "numeric"
    lob_enabled: bool = True
    placeholder: str = DEFAULT_PLACEHOLDER
    converter: Converter = "json"
    flattened: bool = False

    def __str__(self) -> str:
        return "-".join(
            [
                self.decimal,
                self.time,
                self.binary,
                self.interval,
                "lob" if self.lob_enabled else "nolob",
                "default" if self.placeholder == DEFAULT_PLACEHOLDER else "custom",
                self.converter,
                "flat" if self.flattened else "envelope",
            ]
        )


# --- the table: Oracle columns and the values AbstractOracleDatatypesTest inserts ----------

ID = 1004  # NUMBER(38,0): the issue's {"ID": "A+w="} (0x03EC)
VAL_NUM = Decimal("4.444400")  # NUMBER(10,6) ← 4.4444 (EXPECTED_FP:166)
VAL_NUM_VS = Decimal("77.323")  # NUMBER ← 77.323 (EXPECTED_FP:172)
VAL_BF = 1.1  # BINARY_FLOAT ← 1.1, a Java float 1.1f (EXPECTED_FP:160)
VAL_BD = 2.22  # BINARY_DOUBLE (EXPECTED_FP:161)
VAL_DATE = dt.datetime(2018, 3, 27)  # DATE (insertTimeTypes:916)
VAL_TS = (dt.datetime(2018, 3, 27, 12, 34, 56), 7_891_000)  # TIMESTAMP (6): .007891
VAL_TS9 = (dt.datetime(2018, 3, 27, 12, 34, 56), 125_456_789)  # TIMESTAMP(9)
VAL_TSTZ = (dt.datetime(2018, 3, 27, 1, 34, 56), 7_891_000, -11 * 3600)  # TIMESTAMP WITH TIME ZONE
VAL_TSTZ9 = (dt.datetime(9999, 12, 31, 23, 59, 59), 999_999_999, 14 * 3600)  # (9) WITH TZ, edge
VAL_INT_YTM = (-3, -6)  # INTERVAL '-3-6' YEAR TO MONTH
VAL_INT_DTS = (-1, -2, -3, -4, -560_000_000)  # INTERVAL '-1 2:3:4.56' DAY(3) TO SECOND(2)
VAL_CLOB = "TestClob123"  # EXPECTED_CLOB, VAL_CLOB_INLINE
VAL_BLOB = b"\x01\x02\x03"  # OracleBinaryModeIT: HEXTORAW('010203')
VAL_RAW = b"\xfb\xff"  # RAW(16): base64 "+/8=", URL-safe "-_8=", hex "fbff"
LOBS = ("VAL_CLOB", "VAL_BLOB")


# --- Connect schemas and values per setting --------------------------------------------------


def _named(kind: str, name: str, **parameters: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind, "optional": True, "name": name, "version": 1}
    if parameters:
        schema["parameters"] = parameters
    return schema


def _struct(name: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "struct",
        "optional": True,
        "name": name,
        "version": 1,
        "fields": [{"type": kind, "optional": True, "field": field} for field, kind in fields],
    }


DECIMAL = "org.apache.kafka.connect.data.Decimal"
VARIABLE_SCALE = _struct(
    "io.debezium.data.VariableScaleDecimal", [("scale", "int32"), ("value", "bytes")]
)
VARIABLE_SCALE["fields"] = [{**f, "optional": False} for f in VARIABLE_SCALE["fields"]]
_TIMESTAMP_FIELDS = [
    ("year", "int32"),
    ("month", "int8"),
    ("day", "int8"),
    ("hour", "int8"),
    ("minute", "int8"),
    ("second", "int8"),
    ("nanos", "int32"),
]
STRUCTURED_TIMESTAMP = _struct(
    "io.debezium.time.StructuredTimestamp",
    [*_TIMESTAMP_FIELDS, ("specialValue", "string"), ("precision", "int32")],
)
STRUCTURED_ZONED_TIMESTAMP = _struct(
    "io.debezium.time.StructuredZonedTimestamp",
    [
        *_TIMESTAMP_FIELDS,
        ("offsetSeconds", "int32"),
        ("zoneId", "string"),
        ("specialValue", "string"),
        ("precision", "int32"),
    ],
)
STRUCTURED_DURATION = _struct(
    "io.debezium.time.StructuredDuration",
    [
        ("years", "int32"),
        ("months", "int32"),
        ("days", "int32"),
        ("hours", "int32"),
        ("minutes", "int32"),
        ("seconds", "int64"),
        ("nanos", "int32"),
        ("precision", "int32"),
    ],
)


def unscaled(number: Decimal) -> bytes:
    """BigDecimal.unscaledValue().toByteArray(): big-endian two's complement, minimal."""
    digits = int(number.scaleb(-number.as_tuple().exponent))  # type: ignore[operator]
    return digits.to_bytes((digits.bit_length() + 8) // 8, "big", signed=True)


def _number(
    number: Decimal, precision: int, scale: int | None, mode: DecimalMode
) -> tuple[Any, Any]:
    """NUMBER(p, s) (scale None: NUMBER without precision, a VariableScaleDecimal)."""
    if mode == "double":
        return {"type": "double", "optional": True}, float(number)
    if mode == "string":
        return {"type": "string", "optional": True}, format(number, "f")  # toPlainString
    if scale is None:
        scaled = -number.as_tuple().exponent  # type: ignore[operator]
        return VARIABLE_SCALE, {"scale": scaled, "value": unscaled(number)}
    schema = _named(
        "bytes", DECIMAL, scale=str(scale), **{"connect.decimal.precision": str(precision)}
    )
    return schema, number.quantize(Decimal(1).scaleb(-scale))


def _epoch_nanos(moment: dt.datetime, nanos: int) -> int:
    seconds = (moment - dt.datetime(1970, 1, 1)) // dt.timedelta(seconds=1)
    return seconds * 1_000_000_000 + nanos


def _iso_utc(moment: dt.datetime, nanos: int) -> str:
    """IsoTimestamp.toIsoString: ISO_OFFSET_DATE_TIME at UTC (fraction without trailing zeros)."""
    fraction = f"{nanos:09d}".rstrip("0")
    return moment.isoformat() + (f".{fraction}" if fraction else "") + "Z"


def _structured(moment: dt.datetime, nanos: int, precision: int, **zone: Any) -> dict[str, Any]:
    return {
        "year": moment.year,
        "month": moment.month,
        "day": moment.day,
        "hour": moment.hour,
        "minute": moment.minute,
        "second": moment.second,
        "nanos": nanos,
        **zone,
        "specialValue": None,
        "precision": precision,
    }


def _timestamp(moment: dt.datetime, nanos: int, precision: int, mode: TimeMode) -> tuple[Any, Any]:
    """DATE (precision 0) and TIMESTAMP(p): TemporalPrecisionMode's builders."""
    epoch = _epoch_nanos(moment, nanos)
    if mode == "connect":
        return _named("int64", "org.apache.kafka.connect.data.Timestamp"), epoch // 1_000_000
    if mode == "isostring":
        return _named("string", "io.debezium.time.IsoTimestamp"), _iso_utc(moment, nanos)
    if mode == "structured":
        return STRUCTURED_TIMESTAMP, _structured(moment, nanos, precision)
    unit = {"microseconds": 6, "nanoseconds": 9}.get(mode, precision)
    if unit <= 3:
        return _named("int64", "io.debezium.time.Timestamp"), epoch // 1_000_000
    if unit <= 6:
        return _named("int64", "io.debezium.time.MicroTimestamp"), epoch // 1_000
    return _named("int64", "io.debezium.time.NanoTimestamp"), epoch


def _zoned(
    moment: dt.datetime, nanos: int, offset: int, width: int, mode: TimeMode
) -> tuple[Any, Any]:
    """TIMESTAMP(width) WITH TIME ZONE: a ZonedTimestamp in every mode but structured."""
    if mode == "structured":
        zone = {"offsetSeconds": offset, "zoneId": None}
        return STRUCTURED_ZONED_TIMESTAMP, _structured(moment, nanos, width, **zone)
    sign, minutes = ("-" if offset < 0 else "+"), abs(offset) // 60
    zone = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}" if offset else "Z"  # appendOffsetId
    text = f"{moment.isoformat()}.{f'{nanos:09d}'[:width]}{zone}"
    return _named("string", "io.debezium.time.ZonedTimestamp"), text


def _interval_text(
    years: int, months: int, days: int, hours: int, minutes: int, seconds: Decimal
) -> str:
    """Interval.toIsoString: PnYnMnDTnHnMnS, seconds cut to 9 digits (RoundingMode.DOWN)
    and stripped of trailing zeros."""
    if -seconds.as_tuple().exponent > 9:  # type: ignore[operator]
        seconds = seconds.quantize(Decimal("1E-9"), rounding=ROUND_DOWN)
    plain = format(seconds.normalize(), "f")
    return f"P{years}Y{months}M{days}DT{hours}H{minutes}M{plain}S"


def _duration_micros(parts: tuple[int, ...]) -> int:
    """MicroDuration.durationMicros with 365.25 / 12 days a month, in its order of operations."""
    years, months, days, hours, minutes, seconds, nanos = parts
    number_of_days = ((years * 12) + months) * (365.25 / 12.0) + days
    number_of_seconds = (((number_of_days * 24 + hours) * 60) + minutes) * 60 + seconds
    return int(number_of_seconds * 1e6 + nanos // 1000)


def _interval(parts: tuple[int, ...], connector: Connector) -> tuple[Any, Any]:
    """INTERVAL YEAR TO MONTH (2 parts) or DAY TO SECOND (5 parts, nanos signed)."""
    if len(parts) == 2:
        full, precision = (*parts, 0, 0, 0, 0, 0), None
    else:
        full, precision = (0, 0, *parts), 2  # DAY(3) TO SECOND(2): the column's scale
    if connector.time == "structured":
        names = ("years", "months", "days", "hours", "minutes", "seconds", "nanos")
        return STRUCTURED_DURATION, {**dict(zip(names, full, strict=True)), "precision": precision}
    if connector.interval == "string":
        years, months, days, hours, minutes, seconds, nanos = full
        # year to month: BigDecimal.ZERO; day to second: sign * (seconds + micros / 1_000_000D)
        sign = -1 if min(full) < 0 else 1
        fraction = sign * (abs(seconds) + abs(nanos) // 1000 / 1_000_000)
        exact = Decimal(0) if len(parts) == 2 else Decimal(repr(fraction))
        text = _interval_text(years, months, days, hours, minutes, exact)
        return _named("string", "io.debezium.time.Interval"), text
    return _named("int64", "io.debezium.time.MicroDuration"), _duration_micros(full)


def _binary(data: bytes, mode: BinaryMode) -> tuple[Any, Any]:
    if mode == "base64":
        return {"type": "string", "optional": True}, base64.b64encode(data).decode()
    if mode == "base64-url-safe":
        return {"type": "string", "optional": True}, base64.urlsafe_b64encode(data).decode()
    if mode == "hex":
        return {"type": "string", "optional": True}, data.hex()
    return {"type": "bytes", "optional": True}, data


def key_field(connector: Connector) -> tuple[dict[str, Any], Any]:
    schema, value = _number(Decimal(ID), 38, 0, connector.decimal)
    return {**schema, "optional": False}, value


def row_fields(connector: Connector, op: Literal["create", "update"]) -> dict[str, tuple[Any, Any]]:
    """Column → (Connect field schema, Connect value) of the row image in `after`.

    ``create``: every value (with lob.enabled=false LogMiner leaves LOBs null);
    ``update``: a non-LOB column changed, the LOBs unchanged (the placeholder).
    """
    c = connector
    fields: dict[str, tuple[Any, Any]] = {
        "ID": key_field(c),
        "VAL_NUM": _number(VAL_NUM, 10, 6, c.decimal),
        "VAL_NUM_VS": _number(VAL_NUM_VS, 0, None, c.decimal),
        "VAL_BF": ({"type": "float", "optional": True}, VAL_BF),
        "VAL_BD": ({"type": "double", "optional": True}, VAL_BD),
        "VAL_DATE": _timestamp(VAL_DATE, 0, 0, c.time),
        "VAL_TS": _timestamp(*VAL_TS, 6, c.time),
        "VAL_TS9": _timestamp(*VAL_TS9, 9, c.time),
        "VAL_TSTZ": _zoned(*VAL_TSTZ, 6, c.time),
        "VAL_TSTZ9": _zoned(*VAL_TSTZ9, 9, c.time),
        "VAL_INT_YTM": _interval(VAL_INT_YTM, c),
        "VAL_INT_DTS": _interval(VAL_INT_DTS, c),
        "VAL_RAW": _binary(VAL_RAW, c.binary),
        "VAL_CLOB": ({"type": "string", "optional": True}, VAL_CLOB),
        "VAL_BLOB": _binary(VAL_BLOB, c.binary),
    }
    if op == "create" and not c.lob_enabled:
        fields["VAL_CLOB"] = (fields["VAL_CLOB"][0], None)
        fields["VAL_BLOB"] = (fields["VAL_BLOB"][0], None)
    if op == "update":
        fields["VAL_CLOB"] = (fields["VAL_CLOB"][0], c.placeholder)
        fields["VAL_BLOB"] = _binary(c.placeholder.encode(), c.binary)
    return fields
