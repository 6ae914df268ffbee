"""Every type-dependent path on the types SQLAlchemy's Oracle dialect really reflects.

The tables come from `oracle_typed.reflect` (SQLAlchemy's own reflection code
fed Oracle's dictionary rows, then cdc-sync's reflection hooks), the values
from `oracle_typed.fetched` (what python-oracledb and SQLAlchemy return for
what the database holds). Each key type then goes through the document id
(stream and bootstrap), the delete sweep, the change log, keyset binds and
verify's hashes; each value type through row images.

Expected values come from outside cdc-sync: document ids from SPEC §5 (a
valid Meilisearch id passes through), the change log's key text from Oracle's
JSON_ARRAY (Oracle Database JSON Developer's Guide 19c, "Generation of JSON
Data With SQL/JSON Functions": numbers as JSON numbers, DATE and TIMESTAMP as
ISO 8601 text; RAW keys go through RAWTOHEX), value forms from Debezium's
Oracle tests (debezium-connector-oracle AbstractOracleDatatypesTest.java).
"""

from __future__ import annotations

import array
import datetime as dt
import math
import struct
from dataclasses import dataclass, replace
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import oracledb
import pytest
from sqlalchemy import Column, Engine

from cdc_sync.documents.compose import composed_row
from cdc_sync.documents.mapping import (
    MappingError,
    Upsert,
    document_for_row,
    operation_for_event,
)
from cdc_sync.events.decode import decode_record
from cdc_sync.events.encode import encode
from cdc_sync.source.changelog import parse_pk
from cdc_sync.source.images import match_key, row_event
from cdc_sync.source.keyset import after_key
from cdc_sync.source.schema import CapturedTable, RelatedTable
from cdc_sync.source.sweep import typed_key
from cdc_sync.source.timestamp import TimestampPoller, dump_value
from cdc_sync.verify.diff import digest
from tests.unit.oracle_typed import DECLARED, fetched, oracle_engine, reflect
from tests.unit.type_paths import (
    bootstrap_document,
    captured,
    fetched_key,
    logged_key,
    relay_image,
    stream_document,
    swept_key,
)

ENGINE = oracle_engine()


@dataclass(frozen=True)
class Key:
    declared: tuple[str, ...]
    stored: tuple[Any, ...]
    logged: str | None
    """The key as the trigger's JSON_ARRAY writes it (None: not checked, see below)."""
    doc_id: str | None = None
    """The id SPEC §5 gives it when it passes through (None: encoded)."""

    def __str__(self) -> str:
        return f"{'+'.join(self.declared)}={'+'.join(map(repr, self.stored))}"


D = Decimal
KEYS = [
    Key(("NUMBER(10)",), (D(42),), "[42]", "42"),
    Key(("NUMBER(10)",), (D(-7),), "[-7]", "-7"),
    Key(("NUMBER(38)",), (D("12345678901234567891"),), "[12345678901234567891]"),
    Key(("NUMBER(12,2)",), (D("1.5"),), "[1.5]"),
    Key(("NUMBER(12,2)",), (D(42),), "[42]", "42"),
    Key(("NUMBER",), (D(42),), "[42]", "42"),
    Key(("NUMBER",), (D("1.5"),), "[1.5]"),
    Key(("NUMBER",), (D("12345678901234567891"),), "[12345678901234567891]"),
    Key(("INTEGER",), (D(7),), "[7]", "7"),
    Key(("FLOAT",), (D("0.5"),), "[0.5]"),
    Key(("FLOAT",), (D(42),), "[42]", "42"),
    Key(("FLOAT(63)",), (D(3),), "[3]", "3"),
    Key(("FLOAT(10)",), (D("0.25"),), "[0.25]"),
    # JSON_ARRAY's text for binary floats is not documented: the change-log path
    # is not checked for them (they are also unusual keys).
    Key(("BINARY_FLOAT",), (1.1,), None),
    Key(("BINARY_FLOAT",), (5.0,), None, "5"),
    Key(("BINARY_DOUBLE",), (2.22,), None),
    Key(("DATE",), (dt.datetime(2018, 3, 27),), '["2018-03-27T00:00:00"]'),
    Key(
        ("TIMESTAMP(6)",),
        (dt.datetime(2018, 3, 27, 12, 34, 56, 7891),),
        '["2018-03-27T12:34:56.007891"]',
    ),
    Key(("CHAR(3)",), ("AB ",), '["AB "]'),  # CHAR is blank-padded
    Key(("NCHAR(3)",), ("가나 ",), '["가나 "]'),
    Key(("VARCHAR2(40)",), ("case-42",), '["case-42"]', "case-42"),
    Key(("VARCHAR2(40)",), ("a b/c",), '["a b/c"]'),
    Key(("VARCHAR2(40)",), ("42",), '["42"]', "42"),
    Key(("NVARCHAR2(40)",), ("한글",), '["한글"]'),
    Key(("RAW(16)",), (b"\x0a\xff",), '["0AFF"]'),
    Key(("NUMBER(10)", "DATE"), (D(1), dt.datetime(2024, 3, 1, 13, 45, 10)), None),
    Key(("VARCHAR2(40)", "NUMBER(10)"), ("007", D(2)), '["007", 2]'),
]


def typed_table(
    columns: list[tuple[str, str]], key: list[str], stored: list[Any]
) -> tuple[CapturedTable, dict[Column[Any], Any]]:
    """Table ``T`` of these (name, Oracle type) columns, and one row of `stored` as read."""
    table = reflect("T", columns, key, engine=ENGINE)
    spelling = {c.name: c.name.upper() for c in table.c} | {"t": "T"}
    values = {c: fetched(c, v, ENGINE) for c, v in zip(table.c, stored, strict=True)}
    return captured(table, spelling), values


def table_for(key: Key) -> tuple[CapturedTable, dict[Column[Any], Any]]:
    names = [f"K{i}" for i in range(1, len(key.declared) + 1)]
    columns = [*zip(names, key.declared, strict=True), ("NOTE", "VARCHAR2(40)")]
    return typed_table(columns, names, [*key.stored, "n"])


@pytest.mark.parametrize("key", KEYS, ids=str)
def test_the_stream_and_bootstrap_give_a_row_the_same_document(key: Key) -> None:
    table, values = table_for(key)
    streamed, loaded = stream_document(table, values), bootstrap_document(table, values)
    assert isinstance(streamed, Upsert) and isinstance(loaded, Upsert)
    assert streamed.doc_id == loaded.doc_id
    assert digest(streamed.document) == digest(loaded.document)  # verify sees no difference
    if key.doc_id is not None:
        assert streamed.doc_id == key.doc_id


@pytest.mark.parametrize("key", KEYS, ids=str)
def test_the_sweep_finds_the_row_of_every_document(key: Key) -> None:
    """The delete sweep must not take a live row for gone (issue 16, item 1)."""
    table, values = table_for(key)
    doc_id = stream_document(table, values).doc_id
    assert swept_key(table, doc_id) == fetched_key(table, values)


@pytest.mark.parametrize("key", [k for k in KEYS if k.logged is not None], ids=str)
def test_the_relay_finds_the_row_of_every_logged_key(key: Key) -> None:
    table, values = table_for(key)
    assert key.logged is not None
    assert logged_key(table, key.logged) == fetched_key(table, values)


def bound(engine: Engine, column: Column[Any], value: Any) -> Any:
    """`value` as SQLAlchemy hands it to python-oracledb for a comparison with `column`."""
    compiled = (column == value).compile(dialect=engine.dialect)
    [(name, raw)] = compiled.construct_params().items()
    process = compiled._bind_processors.get(name)
    return process(raw) if process is not None else raw


@pytest.mark.parametrize("key", KEYS, ids=str)
def test_keys_read_back_bind_as_the_database_holds_them(key: Key) -> None:
    """Keyset positions (bootstrap, verify, timestamp polling) bind the values read; the
    sweep binds the keys it rebuilt from ids: both must reach Oracle as the stored value."""
    table, values = table_for(key)
    read = [values[c] for c in table.key_columns]
    after_key(table.key_columns, read).compile(dialect=ENGINE.dialect)
    doc_id = stream_document(table, values).doc_id
    for column, stored, value, swept in zip(
        table.key_columns, key.stored, read, typed_key(table, doc_id), strict=True
    ):
        assert bound(ENGINE, column, value) == bound(ENGINE, column, swept)
        if isinstance(stored, float):  # BINARY_FLOAT/DOUBLE: the stored binary value exactly
            assert bound(ENGINE, column, value) == fetched_float(column, stored)


def fetched_float(column: Column[Any], stored: float) -> float:
    if column.info[DECLARED] == "BINARY_FLOAT":
        return float(struct.unpack("f", struct.pack("f", stored))[0])
    return stored


def test_oracle_reflects_integer_numbers_as_floats_for_sqlalchemy() -> None:
    """Why the sweep broke: NUMBER(p) reflects with asdecimal=False, python_type float
    (sqlalchemy/dialects/oracle/base.py, get_multi_columns; types.py, NUMBER)."""
    table = reflect("T", [("ID", "NUMBER(10)")], ["ID"], engine=ENGINE)
    kind = table.c.id.type
    assert (kind.precision, kind.scale, kind.asdecimal) == (10, 0, False)  # type: ignore[attr-defined]
    assert kind.python_type is float


@dataclass(frozen=True)
class Value:
    declared: str
    stored: Any
    published: Any
    """The document's field (where the value comes from is in `VALUES`' comments)."""

    def __str__(self) -> str:
        return f"{self.declared}={self.stored!r}"


MINUS_11 = dt.timezone(dt.timedelta(hours=-11))
VALUES = [
    Value("NUMBER(12,2)", D("1.5"), 1.5),
    Value("VARCHAR2(40)", "text", "text"),
    Value("CLOB", "a long text", "a long text"),
    # Naive date-times are the source zone's (UTC unless configured): docs/oracle.md.
    Value("DATE", dt.datetime(2018, 3, 27), "2018-03-27T00:00:00+00:00"),
    Value(
        "TIMESTAMP(6)",
        dt.datetime(2018, 3, 27, 12, 34, 56, 7891),
        "2018-03-27T12:34:56.007891+00:00",
    ),
    # AbstractOracleDatatypesTest: TO_TIMESTAMP_TZ('2018-03-27 01:34:56.007891234 -11:00')
    # is the instant 2018-03-27T12:34:56.007891Z (issue 16, item 4: published in UTC).
    Value(
        "TIMESTAMP(6) WITH TIME ZONE",
        dt.datetime(2018, 3, 27, 1, 34, 56, 7891, tzinfo=MINUS_11),
        "2018-03-27T12:34:56.007891+00:00",
    ),
    # A region name: thin mode cannot fetch it (DPY-3022); Asia/Seoul is UTC+9 all year.
    Value(
        "TIMESTAMP(6) WITH TIME ZONE",
        dt.datetime(2024, 3, 1, 13, 45, 10, tzinfo=ZoneInfo("Asia/Seoul")),
        "2024-03-01T04:45:10+00:00",
    ),
    Value(
        "TIMESTAMP(6) WITH LOCAL TIME ZONE",
        dt.datetime(2018, 3, 27, 1, 34, 56, 7891, tzinfo=MINUS_11),
        "2018-03-27T12:34:56.007891+00:00",
    ),
    # AbstractOracleDatatypesTest: BINARY_FLOAT 1.1f and BINARY_DOUBLE 2.22 (issue 16,
    # item 10: not the widened 1.100000023841858).
    Value("BINARY_FLOAT", 1.1, 1.1),
    Value("BINARY_FLOAT", 0.1, 0.1),
    Value("BINARY_DOUBLE", 2.22, 2.22),
    # Issue 16, item 10: a documented form for INTERVAL YEAR TO MONTH (python-oracledb's
    # IntervalYM(years, months)), Debezium's with interval.handling.mode = string:
    # Interval.toIsoString (debezium-connector-common io/debezium/time/Interval.java) of
    # OracleValueConverters.convertOracleIntervalYearMonth, where INTERVAL '-3-6' YEAR TO
    # MONTH is years -3, months -6.
    Value("INTERVAL YEAR(2) TO MONTH", oracledb.IntervalYM(-3, -6), "P-3Y-6M0DT0H0M0S"),
    Value("INTERVAL YEAR(2) TO MONTH", oracledb.IntervalYM(1, 2), "P1Y2M0DT0H0M0S"),
    # AbstractOracleDatatypesTest: INTERVAL '-1 2:3:4.56' DAY TO SECOND is -93784.56 s
    # (MicroDuration -93_784_560_000 µs).
    Value(
        "INTERVAL DAY(2) TO SECOND(6)",
        -dt.timedelta(days=1, hours=2, minutes=3, seconds=4.56),
        -93784.56,
    ),
]


def value_table(value: Value) -> tuple[CapturedTable, dict[Column[Any], Any]]:
    return typed_table([("ID", "NUMBER(10)"), ("V", value.declared)], ["ID"], [D(1), value.stored])


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_row_images_publish_each_type_in_its_documented_form(value: Value) -> None:
    """The relay's event, the consumer's document and bootstrap's document agree."""
    table, values = value_table(value)
    streamed, loaded = stream_document(table, values), bootstrap_document(table, values)
    assert isinstance(streamed, Upsert) and isinstance(loaded, Upsert)
    assert streamed.document["v"] == value.published
    assert digest(loaded.document) == digest(streamed.document)


def test_a_zoned_watermark_stored_without_its_zone_starts_the_cycle_again() -> None:
    """A TSTZ modified column was read without its offset before it was read as UTC: such a
    stored watermark names no instant, so polling starts from the beginning (rows published
    again are harmless) instead of comparing it with instants or skipping rows."""
    table = reflect("T", [("ID", "NUMBER(10)"), ("AT", "TIMESTAMP(6) WITH TIME ZONE")], ["ID"])
    captured_table = captured(table, {"id": "ID", "at": "AT", "t": "T"}, modified_column="AT")
    stored: dict[str, Any] = {}
    state = SimpleNamespace(get_watermark=stored.get)
    poller = TimestampPoller(None, None, captured_table, "t", None, state)  # type: ignore[arg-type]
    stored[poller.state_key] = dump_value(dt.datetime(2024, 3, 1, 13, 45))
    assert poller.watermark() is None
    instant = dt.datetime(2024, 3, 1, 4, 45, tzinfo=dt.UTC)
    stored[poller.state_key] = dump_value(instant)
    assert poller.watermark() == instant


NOT_FINITE = [
    Value("BINARY_DOUBLE", math.nan, None),
    Value("BINARY_DOUBLE", math.inf, None),
    Value("BINARY_FLOAT", -math.inf, None),
    Value("VECTOR", array.array("f", [1.0, math.nan]), None),
]


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
def test_not_finite_numbers_dead_letter_their_row_and_the_stream_goes_on(value: Value) -> None:
    """Issue 16, item 10: JSON has no NaN or infinity, and a value is never replaced; the
    relay publishes the row refused (the consumer dead-letters it with the reason) instead
    of exiting, and bootstrap and verify count it as unmappable."""
    table, values = value_table(value)
    with pytest.raises(MappingError, match=r"column V.*(nan|inf)"):
        stream_document(table, values)
    with pytest.raises(MappingError, match=r"(nan|inf)"):
        bootstrap_document(table, values)


SINGLE = [k for k in KEYS if len(k.declared) == 1 and k.logged is not None]


def composed_tables(key: Key) -> tuple[CapturedTable, dict[Column[Any], Any], RelatedTable]:
    """Parent ``T`` keyed by `key`'s type, with children ``C`` linked by a column of that type."""
    parent = reflect(
        "T", [("K1", key.declared[0]), ("NOTE", "VARCHAR2(40)")], ["K1"], engine=ENGINE
    )
    child = reflect(
        "C",
        [("CID", "NUMBER(10)"), ("PK1", key.declared[0]), ("LABEL", "VARCHAR2(40)")],
        ["CID"],
        engine=ENGINE,
    )
    spelling = {"k1": "K1", "note": "NOTE", "t": "T"}
    child_settings = {"name": "C", "primary_key": ["CID"], "parent_key": ["PK1"]}
    settings = {"children": [{**child_settings, "field": "children"}]}
    table = captured(parent, spelling, **settings)
    notes = RelatedTable(
        table.settings.children[0],
        child,
        [child.c.cid],
        [child.c.pk1],
        table.key_columns,
        [child.c.cid],
        {c.name: c.name.upper() for c in child.c},
        table.name,
        "T_C",
    )
    values = {c: fetched(c, v, ENGINE) for c, v in zip(parent.c, [*key.stored, "n"], strict=True)}
    return replace(table, children=(notes,)), values, notes


@pytest.mark.parametrize("key", SINGLE, ids=str)
def test_composed_documents_are_the_same_from_the_stream_and_bootstrap(key: Key) -> None:
    """A parent's children attach by key (`match_key` of the parent's key and of the child's
    link, both as read) and map the same whether the relay published them or bootstrap read
    them."""
    table, values, notes = composed_tables(key)
    linked = fetched(notes.table.c.pk1, key.stored[0], ENGINE)
    assert match_key([linked]) == fetched_key(table, values)  # how attach_related pairs them
    child = {"CID": 7, "PK1": linked, "LABEL": "c"}
    relay_row = composed_row(relay_image(table, values), {"children": [child]}, {})
    event = row_event(table, "c", relay_row, 7, 0)
    [(record_key, record_value), *_] = encode(event, 0)
    streamed = operation_for_event(table.settings, decode_record(record_key, record_value))
    loaded_row = composed_row({c.name: v for c, v in values.items()}, {"children": [child]}, {})
    loaded = document_for_row(table.settings, loaded_row)
    assert isinstance(streamed, Upsert) and isinstance(loaded, Upsert)
    assert streamed.doc_id == loaded.doc_id and streamed.document["children"]
    assert digest(streamed.document) == digest(loaded.document)


@pytest.mark.parametrize("key", SINGLE, ids=str)
def test_a_lookup_change_binds_the_parents_column_as_it_holds_the_value(key: Key) -> None:
    """The relay's fan-out reads a lookup's logged key back as values of the parent's
    referencing column (`RelatedTable.parent_values`) and binds them against that column."""
    table, values, notes = composed_tables(key)
    codes = replace(notes, parent_columns=table.key_columns)
    assert key.logged is not None
    [value] = codes.parent_values(parse_pk(key.logged))
    [column] = table.key_columns
    assert bound(ENGINE, column, value) == bound(ENGINE, column, values[column])


def test_a_zoned_position_binds_as_the_instant_it_was_read_as() -> None:
    """A TSTZ modified column's position (timestamp polling) is read as a UTC instant and
    bound back as that instant, in UTC, inside FROM_TZ(CAST(... AS TIMESTAMP), 'UTC')."""
    table = reflect("T", [("ID", "NUMBER(10)"), ("AT", "TIMESTAMP(6) WITH TIME ZONE")], ["ID"])
    stored = dt.datetime(2018, 3, 27, 1, 34, 56, 7891, tzinfo=MINUS_11)
    read = fetched(table.c.at, stored, ENGINE)
    assert read == stored and read.tzinfo == dt.UTC
    assert bound(ENGINE, table.c.at, read) == dt.datetime(2018, 3, 27, 12, 34, 56, 7891)
    sql = str((table.c.at > read).compile(dialect=ENGINE.dialect))
    assert sql == "app.t.at > FROM_TZ(CAST(:at_1 AS TIMESTAMP), 'UTC')"
