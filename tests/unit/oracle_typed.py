"""Oracle-typed tables without an Oracle: the types SQLAlchemy's Oracle dialect reflects.

`reflect` hands dictionary rows, as Oracle's ``ALL_TAB_COLS`` holds them, to
the real reflection code of SQLAlchemy's python-oracledb dialect
(``OracleDialect.get_multi_columns``, which turns DATA_TYPE, DATA_PRECISION,
DATA_SCALE and the lengths into SQLAlchemy types), on an engine prepared as
cdc-sync prepares every Oracle engine, then runs the ``column_reflect`` hooks
cdc-sync registers, as ``Inspector.reflect_table`` does. The tables are
therefore typed exactly as a live Oracle would type them in cdc-sync.

The dictionary values follow Oracle Database Reference 19c, "ALL_TAB_COLUMNS":
DATA_PRECISION is the decimal precision of NUMBER and the binary precision of
FLOAT (126 for FLOAT and DOUBLE PRECISION, 63 for REAL), NULL otherwise;
DATA_SCALE is NULL for an unconstrained NUMBER and 0 for INTEGER; CHAR_LENGTH
counts characters (NVARCHAR2 and NCHAR: DATA_LENGTH is 2 bytes per character
in AL16UTF16); DATA_TYPE spells fractional-second and interval precisions,
e.g. ``TIMESTAMP(6) WITH TIME ZONE`` and ``INTERVAL YEAR(2) TO MONTH`` (the
spelling Debezium names in debezium-connector-oracle
OracleDefaultValueConverter.java, createDefaultValueMappers).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import oracledb
from sqlalchemy import Column, Engine, MetaData, Table
from sqlalchemy.engine.reflection import ObjectKind, ObjectScope

from cdc_sync.config import SourceSettings
from cdc_sync.source.database import create_source_engine


@dataclass(frozen=True)
class Dictionary:
    """One column's row of ALL_TAB_COLS (the columns SQLAlchemy's reflection reads)."""

    data_type: str
    data_precision: int | None = None
    data_scale: int | None = None
    char_length: int = 0
    data_length: int = 0


ORACLE = {
    "NUMBER(10)": Dictionary("NUMBER", 10, 0, data_length=22),
    "NUMBER(38)": Dictionary("NUMBER", 38, 0, data_length=22),
    "NUMBER(12,2)": Dictionary("NUMBER", 12, 2, data_length=22),
    "NUMBER": Dictionary("NUMBER", None, None, data_length=22),
    "INTEGER": Dictionary("NUMBER", None, 0, data_length=22),
    "FLOAT": Dictionary("FLOAT", 126, None, data_length=22),
    "FLOAT(63)": Dictionary("FLOAT", 63, None, data_length=22),
    "FLOAT(10)": Dictionary("FLOAT", 10, None, data_length=22),
    "BINARY_FLOAT": Dictionary("BINARY_FLOAT", data_length=4),
    "BINARY_DOUBLE": Dictionary("BINARY_DOUBLE", data_length=8),
    "DATE": Dictionary("DATE", data_length=7),
    "TIMESTAMP(6)": Dictionary("TIMESTAMP(6)", None, 6, data_length=11),
    "TIMESTAMP(6) WITH TIME ZONE": Dictionary(
        "TIMESTAMP(6) WITH TIME ZONE", None, 6, data_length=13
    ),
    "TIMESTAMP(6) WITH LOCAL TIME ZONE": Dictionary(
        "TIMESTAMP(6) WITH LOCAL TIME ZONE", None, 6, data_length=11
    ),
    "CHAR(1)": Dictionary("CHAR", char_length=1, data_length=1),
    "CHAR(3)": Dictionary("CHAR", char_length=3, data_length=3),
    "NCHAR(3)": Dictionary("NCHAR", char_length=3, data_length=6),
    "VARCHAR2(40)": Dictionary("VARCHAR2", char_length=40, data_length=40),
    "NVARCHAR2(40)": Dictionary("NVARCHAR2", char_length=40, data_length=80),
    "RAW(16)": Dictionary("RAW", data_length=16),
    "CLOB": Dictionary("CLOB", data_length=4000),
    "INTERVAL DAY(2) TO SECOND(6)": Dictionary(
        "INTERVAL DAY(2) TO SECOND(6)", 2, 6, data_length=11
    ),
    "INTERVAL YEAR(2) TO MONTH": Dictionary("INTERVAL YEAR(2) TO MONTH", 2, 0, data_length=5),
    "VECTOR": Dictionary("VECTOR", data_length=8200),
}
"""Oracle column types, as declared, → their ALL_TAB_COLS row."""


DECLARED = "oracle_declared_type"
"""`Column.info` key of the type a column was declared with (what `fetched` needs)."""


def oracle_engine() -> Engine:
    """An Oracle engine prepared as cdc-sync prepares one (never connected)."""
    url = "oracle://u:p@localhost:1521/?service_name=X"
    return create_source_engine(SourceSettings(url=url))  # type: ignore[arg-type]


def _rows(table: str, columns: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {
            "table_name": table,
            "column_name": name,
            "data_type": ORACLE[declared].data_type,
            "char_length": ORACLE[declared].char_length,
            "data_length": ORACLE[declared].data_length,
            "data_precision": ORACLE[declared].data_precision,
            "data_scale": ORACLE[declared].data_scale,
            "nullable": "Y",
            "data_default": None,
            "comments": None,
            "virtual_column": "NO",
            "default_on_null": "NO",
            "identity_options": None,
        }
        for name, declared in columns
    ]


def reflect(
    name: str,
    columns: Sequence[tuple[str, str]],
    key: Sequence[str],
    *,
    schema: str = "APP",
    engine: Engine | None = None,
) -> Table:
    """The table ``schema.name`` with these (column, declared type) pairs, reflected.

    Names are given as Oracle stores them (upper case unless created quoted);
    `key` names the primary-key columns the same way.
    """
    dialect = (engine or oracle_engine()).dialect
    dialect.server_version_info = (19, 0)  # a connection would have set it
    rows = _rows(name, columns)

    def dictionary(*args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield from rows

    dialect._run_batches = dictionary  # type: ignore[attr-defined]
    found = dict(
        dialect.get_multi_columns(  # type: ignore[attr-defined]
            None,
            schema=dialect.normalize_name(schema),
            filter_names=[dialect.normalize_name(name)],
            scope=ObjectScope.ANY,
            kind=ObjectKind.ANY,
        )
    )
    [described] = found.values()
    table = Table(dialect.normalize_name(name), MetaData(), schema=dialect.normalize_name(schema))
    inspector = SimpleNamespace(dialect=dialect)
    keys = {dialect.normalize_name(k) for k in key}
    for column in described:
        table.metadata.dispatch.column_reflect(inspector, table, column)
        table.dispatch.column_reflect(inspector, table, column)
        options = {k: column[k] for k in ("nullable", "quote", "key") if k in column}
        declared = dict(columns)[dialect.denormalize_name(column["name"])]
        table.append_column(
            Column(
                column["name"],
                column["type"],
                primary_key=column["name"] in keys,
                info={DECLARED: declared},
                **options,
            )
        )
    return table


class ThinModeError(Exception):
    """What python-oracledb's thin mode raises for a value it cannot fetch."""


def fetched(column: Column[Any], stored: Any, engine: Engine) -> Any:
    """The value a SELECT of `column` returns for `stored` (what the database holds):
    the SQL cdc-sync's type puts around the column, python-oracledb's fetch, then
    SQLAlchemy's result processing.

    python-oracledb (documentation, "Fetching Data": data types; thin mode):
    NUMBER with scale 0 is an int, other numbers a float unless an output type
    handler asks for Decimal (SQLAlchemy's does for asdecimal types);
    BINARY_FLOAT is a float32 widened to a Python float; DATE and TIMESTAMP a
    naive datetime; TIMESTAMP WITH TIME ZONE a naive datetime of the value's
    own wall time, and DPY-3022 for a value stored with a region name ("named
    time zones are not supported in thin mode"); WITH LOCAL TIME ZONE the
    session zone's wall time (UTC here); INTERVAL YEAR TO MONTH an
    ``oracledb.IntervalYM``.
    """
    dialect = engine.dialect
    declared = column.info[DECLARED]
    value = _sql(column, declared, stored)
    impl = column.type.dialect_impl(dialect)
    value = _driver(impl, declared, value, dialect)
    process = column.type._cached_result_processor(dialect, None)  # what a query runs
    return process(value) if process is not None and value is not None else value


def _sql(column: Column[Any], declared: str, stored: Any) -> Any:
    if stored is None or "TIME ZONE" not in declared:
        return stored
    wrapped = column.type.column_expression(column)  # type: ignore[arg-type]
    if wrapped is not None and "sys_extract_utc" in str(wrapped).lower():
        return stored.astimezone(dt.UTC).replace(tzinfo=None)
    if "LOCAL" in declared:
        return stored.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(stored.tzinfo, ZoneInfo):
        raise ThinModeError("DPY-3022: named time zones are not supported in thin mode")
    return stored.replace(tzinfo=None)


def _driver(impl: Any, declared: str, value: Any, dialect: Any) -> Any:
    if value is None:
        return None
    if declared == "BINARY_FLOAT":
        return struct.unpack("f", struct.pack("f", value))[0]
    if declared == "BINARY_DOUBLE":
        return float(value)
    handler = getattr(impl, "_cx_oracle_outputtypehandler", None)
    if handler is None or not isinstance(value, Decimal | int | float):
        return value
    precision, scale = _described(ORACLE[declared])
    cursor = SimpleNamespace(
        arraysize=100, var=lambda kind, *a, outconverter=None, **k: (kind, outconverter)
    )
    asked = handler(dialect)(cursor, "X", oracledb.DB_TYPE_NUMBER, 22, precision, scale)
    if asked is None:
        return int(value)  # python-oracledb's default for a NUMBER of scale 0
    kind, convert = asked
    if kind is Decimal:
        out: Any = Decimal(str(value))
    elif kind is oracledb.DB_TYPE_BINARY_DOUBLE:
        out = float(value)
    else:
        out = str(value)  # a STRING variable (SQLAlchemy's Integer asks for one)
    return convert(out) if convert is not None else out


def _described(row: Dictionary) -> tuple[int, int]:
    """(precision, scale) as python-oracledb describes a NUMBER or FLOAT column
    (an unconstrained NUMBER: 0, -127; FLOAT(b): b, -127)."""
    if row.data_type == "FLOAT":
        return row.data_precision or 126, -127
    if row.data_precision is None:
        return (38, 0) if row.data_scale == 0 else (0, -127)
    return row.data_precision, row.data_scale or 0
