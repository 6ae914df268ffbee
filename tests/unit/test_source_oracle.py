"""Oracle behaviours checked without a database: driver settings, types, locking a batch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import oracledb
from sqlalchemy import Column, Engine, MetaData, String, Table, create_engine, event, select
from sqlalchemy.dialects import oracle

from cdc_sync.config import SourceSettings, TableSettings
from cdc_sync.source.database import create_source_engine
from cdc_sync.source.dialect import dialect_for
from cdc_sync.source.images import match_key
from cdc_sync.source.oracle import (
    PREFETCH_OPTION,
    binary_collation,
    exact_numbers,
    prefetch,
    prepare_driver,
)
from cdc_sync.source.reflection import reflected_type
from cdc_sync.source.schema import CapturedTable


def reflected(kind: Any) -> Any:
    column = {"name": "x", "type": kind}
    exact_numbers(SimpleNamespace(dialect=oracle.dialect()), Table("t", MetaData()), column)
    return column["type"]


def test_unconstrained_number_and_float_are_reflected_as_decimals() -> None:
    for kind in (oracle.NUMBER(), oracle.NUMBER(10, -2), oracle.FLOAT(), oracle.DOUBLE_PRECISION()):
        assert reflected(kind).asdecimal, kind
    integer, fixed = reflected(oracle.NUMBER(10, 0)), reflected(oracle.NUMBER(10, 2))
    assert (integer.asdecimal, integer.scale) == (False, 0)  # fetched as int already
    assert (fixed.asdecimal, fixed.scale) == (True, 2)
    assert not reflected(oracle.BINARY_DOUBLE()).asdecimal  # IEEE by definition
    column = {"name": "x", "type": oracle.NUMBER()}
    exact_numbers(
        SimpleNamespace(dialect=SimpleNamespace(name="sqlite")), Table("t", MetaData()), column
    )
    assert not column["type"].asdecimal


def test_decimal_number_is_fetched_as_decimal_not_binary_double() -> None:
    dialect = create_engine("oracle+oracledb://u:p@localhost/x").dialect
    cursor = SimpleNamespace(arraysize=100, var=lambda *a, **k: (a, k))
    # python-oracledb describes an unconstrained NUMBER with precision 0, scale -127.
    before = oracle.NUMBER().dialect_impl(dialect)._cx_oracle_outputtypehandler(dialect)
    after = reflected(oracle.NUMBER()).dialect_impl(dialect)._cx_oracle_outputtypehandler(dialect)
    args = (cursor, "X", oracledb.DB_TYPE_NUMBER, 22, 0, -127)
    assert before(*args)[0][0] is oracledb.DB_TYPE_BINARY_DOUBLE  # what we fix
    assert after(*args)[0][0] is Decimal


def test_oracle_engine_registers_the_driver_settings() -> None:
    engine = create_source_engine(SourceSettings(url="oracle://u:p@localhost:1521/?service_name=X"))  # type: ignore[arg-type]
    assert engine.dialect.driver == "oracledb"
    assert oracledb.defaults.fetch_lobs is False
    assert event.contains(Table, "column_reflect", reflected_type)
    assert event.contains(Engine, "before_cursor_execute", prefetch)
    prepare_driver()  # idempotent


def test_every_oracle_connection_sorts_and_compares_text_in_binary() -> None:
    """Keyset paging needs ORDER BY (NLS_SORT) and `>` (NLS_COMP) to agree on every connection."""
    engine = create_source_engine(SourceSettings(url="oracle://u:p@localhost:1521/?service_name=X"))  # type: ignore[arg-type]
    assert event.contains(engine, "connect", binary_collation)
    executed: list[str] = []
    cursor = SimpleNamespace(execute=executed.append, close=lambda: executed.append("closed"))
    binary_collation(SimpleNamespace(cursor=lambda: cursor), None)
    assert executed == ["ALTER SESSION SET NLS_SORT = BINARY NLS_COMP = BINARY", "closed"]
    other = create_source_engine(SourceSettings(url="sqlite://"))  # type: ignore[arg-type]
    assert not event.contains(other, "connect", binary_collation)


class FakeResult:
    def __init__(self) -> None:
        self.fetched: list[int] = []
        self.closed = False

    def fetchmany(self, size: int) -> list[int]:
        self.fetched.append(size)
        return list(range(size))

    def close(self) -> None:
        self.closed = True


def test_lock_batch_bounds_the_fetch_not_the_query() -> None:
    d = dialect_for(oracle.dialect())
    log = Table("cdc_change_log", MetaData(), Column("id", String))
    result, seen = FakeResult(), []

    def execute(statement: Any) -> FakeResult:
        seen.append(statement)
        return result

    rows = d.lock_batch(SimpleNamespace(execute=execute), select(log.c.id).order_by(log.c.id), 7)  # type: ignore[arg-type]
    assert len(rows) == 7 and result.fetched == [7] and result.closed
    [statement] = seen
    sql = str(statement.compile(dialect=oracle.dialect()))
    assert sql.endswith("ORDER BY cdc_change_log.id FOR UPDATE SKIP LOCKED")
    assert "FETCH" not in sql and "ROWNUM" not in sql
    # No row limit, so without hints the optimizer plans for all rows: a full scan and a
    # sort of the whole backlog on every batch. Ask for the key index and the first rows.
    assert sql.startswith("SELECT /*+ INDEX_ASC(CDC_CHANGE_LOG (ID)) FIRST_ROWS(7) */ ")
    assert statement.get_execution_options()[PREFETCH_OPTION] == 7


def test_a_relay_serving_one_table_walks_the_table_name_index() -> None:
    """One table name: the (TABLE_NAME, ID) index gives its rows in id order and passes no
    other table's rows. Several: an IN list over that index would need a sort of every
    matching row (no row limit with FOR UPDATE), so the key index is walked instead."""
    d = dialect_for(oracle.dialect())
    log = Table("cdc_change_log", MetaData(), Column("id", String), Column("table_name", String))
    query = select(log.c.id).where(log.c.table_name.in_(["APP.T"])).order_by(log.c.id)
    one = str(d.lock_query(query, 7, single_table=True).compile(dialect=oracle.dialect()))
    assert one.startswith("SELECT /*+ INDEX_ASC(CDC_CHANGE_LOG (TABLE_NAME, ID)) FIRST_ROWS(7) */")
    several = str(d.lock_query(query, 7).compile(dialect=oracle.dialect()))
    assert several.startswith("SELECT /*+ INDEX_ASC(CDC_CHANGE_LOG (ID)) FIRST_ROWS(7) */")


def test_status_reads_the_backlog_of_a_table_through_the_table_name_index() -> None:
    from cdc_sync.source.backlog import oldest_query, waiting_query
    from cdc_sync.source.changelog import changelog_table

    d = dialect_for(oracle.dialect())
    log = changelog_table(SourceSettings(url="oracle://x"))  # type: ignore[arg-type]
    hint = "/*+ INDEX_ASC(CDC_CHANGE_LOG (TABLE_NAME, ID)) */"
    rendered = {"render_postcompile": True}
    waiting = str(
        waiting_query(d, log, "APP.T", 100).compile(
            dialect=oracle.dialect(), compile_kwargs=rendered
        )
    )
    assert hint in waiting and "FETCH FIRST 100 ROWS ONLY" in waiting
    oldest = str(oldest_query(d, log, "APP.T").compile(dialect=oracle.dialect()))
    assert oldest.startswith(f"SELECT {hint} cdc_change_log.changed_at")


def test_prefetch_sets_both_sizes_only_when_asked() -> None:
    cursor = SimpleNamespace(prefetchrows=2, arraysize=100)
    prefetch(None, cursor, "", {}, SimpleNamespace(execution_options={PREFETCH_OPTION: 50}), False)
    assert (cursor.prefetchrows, cursor.arraysize) == (50, 50)
    other = SimpleNamespace(prefetchrows=2, arraysize=100)
    prefetch(None, other, "", {}, SimpleNamespace(execution_options={}), False)
    prefetch(None, other, "", {}, None, False)
    assert (other.prefetchrows, other.arraysize) == (2, 100)


def captured_oracle() -> CapturedTable:
    table = Table(
        "t",
        MetaData(),
        Column("id", oracle.NUMBER(asdecimal=True), primary_key=True),
        Column("day", oracle.DATE, primary_key=True),
        Column("guid", oracle.RAW(16), primary_key=True),
    )
    settings = TableSettings(name="T", primary_key=["ID", "DAY", "GUID"])
    names = {c.name: c.name.upper() for c in table.c}
    return CapturedTable(settings, table, list(table.primary_key.columns), names)


def test_change_log_keys_bind_back_to_the_row_types() -> None:
    table = captured_oracle()
    # What JSON_ARRAY(:NEW.ID, :NEW.DAY, RAWTOHEX(:NEW.GUID)) wrote, parsed by parse_pk.
    logged = [12345678901234567891, "2024-03-01T13:45:10", "0AFF"]
    key = table.key_values(logged)
    assert key == [Decimal(12345678901234567891), dt.datetime(2024, 3, 1, 13, 45, 10), b"\x0a\xff"]
    dialect = create_engine("oracle+oracledb://u:p@localhost/x").dialect
    bind = table.key_columns[0].type.dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None and bind(key[0]) == Decimal(12345678901234567891)  # not via float
    fetched = [Decimal("12345678901234567891"), dt.datetime(2024, 3, 1, 13, 45, 10), b"\x0a\xff"]
    assert match_key(key) == match_key(fetched)
    assert match_key([b"\x00"]) != match_key([b"\x01"])


def test_raw_keys_are_logged_as_hex() -> None:
    d = dialect_for(oracle.dialect())
    from cdc_sync.source.changelog import changelog_table

    log = changelog_table(SourceSettings(url="sqlite://"))  # type: ignore[arg-type]
    ddl = d.create_triggers(captured_oracle(), log)[0]
    assert "JSON_ARRAY(:NEW.ID, :NEW.DAY, RAWTOHEX(:NEW.GUID) NULL ON NULL)" in ddl
    assert ":OLD.GUID <> :NEW.GUID" in ddl
