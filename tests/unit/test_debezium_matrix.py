"""Every converter setting a DBA may choose, through decode and mapping.

``decimal.handling.mode`` x ``time.precision.mode`` x ``binary.handling.mode`` x
``interval.handling.mode`` x ``lob.enabled`` x ``unavailable.value.placeholder`` x
converter (JSON with schemas, JSON without, Avro) x ExtractNewRecordState or not: one
Oracle row (its columns and values are AbstractOracleDatatypesTest's, see
``debezium_oracle``) is created, updated with its LOBs unchanged, and deleted, as
Debezium publishes it under those settings. Each case configures the table as
docs/debezium.md tells a user to for those settings, and checks the documents.

The expected document holds the values the table holds, written as every capture mode
writes them (exact numbers, ISO text), except where Debezium documents a loss, each
named below:

- ``time.precision.mode=connect`` keeps milliseconds (oracle.adoc, "Temporal types":
  "a loss of precision results when the fractional second precision ... is greater
  than 3"); ``microseconds`` keeps microseconds (TemporalPrecisionMode.java: MicroTimestamp);
- ``interval.handling.mode=numeric`` sends microseconds with 365.25 / 12 days a month
  (oracle.adoc, INTERVAL rows; EXPECTED_TIME:239-240); ``string`` and ``structured``
  send the exact text (Interval.toIsoString), indexed as sent;
- ``lob.enabled=false``: LogMiner sends an inserted LOB as null
  (OracleBlobDataTypesIT.java:1206-1211; the property's description in
  OracleConnectorConfig.java:392-400: "LOB fields will not be captured nor emitted");
- ``binary.handling.mode`` other than bytes sends text (JdbcValueConverters.java:889-1010),
  which is indexed as sent: hex for hex, URL-safe base64 for base64-url-safe;
- without schemas ``isostring`` is text (oracle.adoc, isostring table: "2018-03-27T00:00:00Z"),
  indexed as sent.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import pytest

from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import Delete, Upsert, operation_for_event
from cdc_sync.events.avro import AvroReader
from cdc_sync.events.decode import decode_record
from tests.unit.connect_converters import AvroRegistry, Publisher
from tests.unit.debezium_oracle import (
    BINARY_MODES,
    CONVERTERS,
    DECIMAL_MODES,
    DEFAULT_PLACEHOLDER,
    INTERVAL_MODES,
    LOBS,
    TIME_MODES,
    Connector,
)

CUSTOM_PLACEHOLDER = "??unchanged??"
REGISTRY = AvroRegistry()  # one registry for every case: each schema is parsed once
READER = AvroReader(REGISTRY.lookup)
_EPOCH_UNITS = {  # without schemas, as docs/debezium.md says: the unit of each epoch number
    "adaptive": {"VAL_DATE": "millis", "VAL_TS": "micros", "VAL_TS9": "nanos"},
    "connect": dict.fromkeys(("VAL_DATE", "VAL_TS", "VAL_TS9"), "millis"),
    "microseconds": dict.fromkeys(("VAL_DATE", "VAL_TS", "VAL_TS9"), "micros"),
    "nanoseconds": dict.fromkeys(("VAL_DATE", "VAL_TS", "VAL_TS9"), "nanos"),
}
_EPOCH_UNITS["adaptive_time_microseconds"] = _EPOCH_UNITS["adaptive"]  # TIME types only differ


def table_for(c: Connector) -> TableSettings:
    """The table config docs/debezium.md gives for these settings."""
    return _table(c.converter == "json-schemaless", c.decimal, c.time, c.placeholder)


@functools.cache
def _table(schemaless: bool, decimal_mode: str, time_mode: str, placeholder: str) -> TableSettings:
    units = _EPOCH_UNITS.get(time_mode, {}) if schemaless else {}

    def decimal(name: str, scale: int | None) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": name, "type": "decimal"}
        if schemaless and decimal_mode == "precise" and scale is not None:
            spec["scale"] = scale  # base64 unscaled bytes without their schema's scale
        return spec

    def moment(column: str) -> dict[str, Any]:
        return {"name": column.lower(), **({"unit": units[column]} if column in units else {})}

    fields: dict[str, Any] = {
        "ID": decimal("id", 0),
        "VAL_NUM": decimal("val_num", 6),
        "VAL_NUM_VS": decimal("val_num_vs", None),
        "VAL_BF": "val_bf",
        "VAL_BD": "val_bd",
        "VAL_DATE": moment("VAL_DATE"),
        "VAL_TS": moment("VAL_TS"),
        "VAL_TS9": moment("VAL_TS9"),
        "VAL_TSTZ": "val_tstz",
        "VAL_TSTZ9": "val_tstz9",
        "VAL_INT_YTM": "val_int_ytm",
        "VAL_INT_DTS": "val_int_dts",
        "VAL_RAW": {"name": "val_raw", "type": "base64"},
        "VAL_CLOB": "val_clob",
        "VAL_BLOB": {"name": "val_blob", "type": "base64"},
    }
    return TableSettings.model_validate(
        {
            "name": "TYPE_ALL",
            "schema": "DEBEZIUM",
            "primary_key": ["ID"],
            "id_field": "doc_id",
            "capture": "debezium",
            "fields": fields,
            "unavailable_value_placeholder": placeholder,
        }
    )


def _timestamps(c: Connector) -> dict[str, str]:
    """DATE '2018-03-27', TIMESTAMP '…56.007891', TIMESTAMP(9) '…56.125456789'
    (AbstractOracleDatatypesTest insertTimeTypes:915-919)."""
    if c.converter == "json-schemaless" and c.time == "isostring":
        return {  # EXPECTED_TIME_AS_ISOSTRING:264-268, as sent
            "val_date": "2018-03-27T00:00:00Z",
            "val_ts": "2018-03-27T12:34:56.007891Z",
            "val_ts9": "2018-03-27T12:34:56.125456789Z",
        }
    fraction = {"connect": (".007000", ".125000"), "microseconds": (".007891", ".125456")}
    ts, ts9 = fraction.get(c.time, (".007891", ".125456789"))
    return {
        "val_date": "2018-03-27T00:00:00",
        "val_ts": f"2018-03-27T12:34:56{ts}",
        "val_ts9": f"2018-03-27T12:34:56{ts9}",
    }


def _intervals(c: Connector) -> dict[str, Any]:
    """INTERVAL '-3-6' YEAR TO MONTH, '-1 2:3:4.56' DAY TO SECOND (insertTimeTypes:923-924)."""
    if c.time == "structured" or c.interval == "string":
        return {"val_int_ytm": "P-3Y-6M0DT0H0M0S", "val_int_dts": "P0Y0M-1DT-2H-3M-4.56S"}
    return {"val_int_ytm": -110451600_000_000, "val_int_dts": -93784_560_000}  # EXPECTED_TIME


def _binary(c: Connector, data: str) -> str:
    """ "AQID" is base64 of HEXTORAW('010203') (OracleBinaryModeIT:60-89); "+/8=" of FB FF."""
    text = {"AQID": {"hex": "010203"}, "+/8=": {"hex": "fbff", "base64-url-safe": "-_8="}}
    return text[data].get(c.binary, data)


def expected_document(c: Connector) -> dict[str, Any]:
    return {
        "doc_id": "1004",
        "id": 1004,
        "val_num": 4.4444,  # NUMBER(10,6) 4.444400 (EXPECTED_FP:166, EXPECTED_FP_AS_DOUBLE)
        "val_num_vs": 77.323,  # NUMBER 77.323 (EXPECTED_FP:171-172)
        "val_bf": 1.1,  # BINARY_FLOAT 1.1f (EXPECTED_FP:160): its shortest decimal
        "val_bd": 2.22,  # BINARY_DOUBLE (EXPECTED_FP:161)
        **_timestamps(c),
        "val_tstz": "2018-03-27T01:34:56.007891-11:00",  # EXPECTED_TIME:235
        "val_tstz9": "9999-12-31T23:59:59.999999999+14:00",  # insertStructuredEdgeTimeTypes:948
        **_intervals(c),
        "val_raw": _binary(c, "+/8="),
        "val_clob": "TestClob123" if c.lob_enabled else None,  # EXPECTED_CLOB, VAL_CLOB_INLINE
        "val_blob": _binary(c, "AQID") if c.lob_enabled else None,
    }


def operations(connector: Connector) -> dict[str, Any]:
    publisher = Publisher(connector, REGISTRY)
    return {
        name: operation_for_event(table_for(connector), decode_record(r.key, r.value, avro=READER))
        for name, r in publisher.events()
    }


def expected_operations(connector: Connector) -> dict[str, Any]:
    document = expected_document(connector)
    unchanged = {f: v for f, v in document.items() if f.upper() not in LOBS}
    return {
        "create": Upsert("1004", document),
        "update": Upsert("1004", unchanged, partial=True),  # the index keeps val_clob, val_blob
        "delete": Delete("1004"),
    }


@pytest.mark.parametrize(
    ("time", "converter", "flattened"),
    list(itertools.product(TIME_MODES, CONVERTERS, (False, True))),
)
def test_documents_under_every_setting(time: Any, converter: Any, flattened: bool) -> None:
    """Per time mode and converter, every decimal, binary and interval mode, lob.enabled
    and placeholder (96 settings, 3 events each); the mismatches are listed by setting."""
    mismatches = []
    for decimal, binary, interval, lob, placeholder in itertools.product(
        DECIMAL_MODES,
        BINARY_MODES,
        INTERVAL_MODES,
        (True, False),
        (DEFAULT_PLACEHOLDER, CUSTOM_PLACEHOLDER),
    ):
        connector = Connector(
            decimal, time, binary, interval, lob, placeholder, converter, flattened
        )
        found, expected = operations(connector), expected_operations(connector)
        if found != expected:
            mismatches.append((str(connector), found, expected))
    assert not mismatches
