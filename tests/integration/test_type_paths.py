"""Every type-dependent path on real PostgreSQL and SQLite tables, as their reflection types them.

One table per key type (with a child table keyed to it, so composed documents
are covered too) is created, captured by cdc-sync's own triggers and filled.
Then, on what the database really returns:

- the change log's keys, parsed and bound back, find every row (the relay);
- bootstrap (keyset chunks of 2, so positions are bound back) reads every row
  once and builds the same documents, ids and verify hashes as the relay's
  events do after the consumer decoded them;
- every document id, turned back into a key (the delete sweep) and bound in
  the sweep's query, finds its row.

Expected: the same row is the same document by every path (SPEC §5, §6:
"never a different document id for the same row in the stream and in
bootstrap/verify"), and a live row is never taken for deleted.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cdc_sync.bootstrap.reader import SourceReader
from cdc_sync.config import Settings, SourceSettings
from cdc_sync.documents.mapping import Upsert, document_for_row, operation_for_event
from cdc_sync.events.decode import decode_record
from cdc_sync.events.encode import encode
from cdc_sync.source.changelog import changelog_table, parse_pk
from cdc_sync.source.database import create_source_engine
from cdc_sync.source.dialect import dialect_for
from cdc_sync.source.images import match_key, read_images, row_event
from cdc_sync.source.install import install
from cdc_sync.source.related import with_related
from cdc_sync.source.schema import CapturedTable, reflect_tables
from cdc_sync.source.sweep import typed_key
from cdc_sync.verify.diff import digest
from tests.integration.postgres_support import run, settings

pytestmark = pytest.mark.stack


@dataclass(frozen=True)
class Case:
    declared: str
    literals: tuple[str, str, str]
    """Three key values as SQL literals (what the database holds)."""

    def __str__(self) -> str:
        return self.declared


POSTGRESQL = [
    Case("numeric(10,0)", ("42", "-7", "1234567890")),
    Case("numeric(12,2)", ("1.5", "42", "-0.25")),
    Case("numeric", ("42", "1.5", "12345678901234567891")),
    Case("bigint", ("42", "-7", "9007199254740993")),
    Case("integer", ("42", "-7", "0")),
    Case("real", ("1.1", "5", "-0.25")),
    Case("double precision", ("2.22", "5", "1e300")),
    Case(
        "uuid",
        (
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
            "'00000000-0000-0000-0000-000000000000'",
            "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
        ),
    ),
    Case(
        "timestamptz",
        (
            "'2018-03-27 01:34:56.007891-11'",
            "'2024-03-01 09:00:00+09'",
            "'2024-10-27 01:30:00 Europe/Berlin'",
        ),
    ),
    Case(
        "timestamp",
        ("'2018-03-27 12:34:56.007891'", "'2024-03-01 00:00:00'", "'1999-12-31 23:59:59'"),
    ),
    Case("date", ("'2018-03-27'", "'2024-02-29'", "'1970-01-01'")),
    Case("varchar(40)", ("'case-42'", "'a b/c'", "'42'")),
    Case("bytea", ("'\\x0aff'", "'\\x00'", "'\\x6b2d2d'")),
]
SQLITE = [
    Case("INTEGER", ("42", "-7", "9007199254740993")),
    Case("NUMERIC", ("42", "1.5", "-0.25")),
    Case("DECIMAL(10,0)", ("42", "-7", "1234567890")),
    Case("NUMBER(10)", ("42", "-7", "1234567890")),
    Case("REAL", ("1.1", "5", "-0.25")),
    Case("TEXT", ("'case-42'", "'a b/c'", "'42'")),
    Case("DATE", ("'2018-03-27'", "'2024-02-29'", "'1970-01-01'")),
]
# Not SQLite DATETIME keys: SQLite keeps them as text in whatever form they were
# written, and SQLAlchemy binds a datetime as '2024-03-01 00:00:00.000000', which
# finds only rows written in exactly that form.
NUMERIC = {"numeric(10,0)", "numeric(12,2)", "numeric", "bigint", "integer", "real"}
NUMERIC |= {"double precision", "INTEGER", "NUMERIC", "DECIMAL(10,0)", "NUMBER(10)", "REAL"}
_names = itertools.count()


@dataclass(frozen=True)
class Trip:
    """One row's key through the sweep: what the report of the closing note shows."""

    reflected: str
    fetched: Any
    doc_id: str
    swept: Any
    found: bool


@dataclass(frozen=True)
class Paths:
    table: CapturedTable
    logged_found: int
    streamed: dict[str, Upsert]
    loaded: dict[str, Upsert]
    trips: list[Trip]


def run_paths(engine: Engine, url: str, case: Case) -> Paths:
    """Create, capture and fill a table keyed by `case`, then take every path."""
    n = next(_names)
    name, child = f"types_{n}", f"types_{n}_child"
    run(
        engine,
        f"CREATE TABLE {name} (k {case.declared} PRIMARY KEY, note VARCHAR(20))",
        f"CREATE TABLE {child} (child_id INTEGER PRIMARY KEY, parent_k {case.declared}, "
        "label VARCHAR(20))",
    )
    config = settings(url, [_table_config(name, child)], notify=False)
    install(engine, config)
    for i, literal in enumerate(case.literals):  # one statement a row: one key a change-log row
        run(engine, f"INSERT INTO {name} VALUES ({literal}, 'n{i}')")
        run(engine, f"INSERT INTO {child} VALUES ({i}, {literal}, 'c{i}')")
    with engine.connect() as conn:
        [table] = reflect_tables(conn, [(0, config.tables[0])])
        dialect = dialect_for(conn.dialect)
        log = changelog_table(config.source, home=dialect.changelog_home(conn))
        logged = [table.key_values(parse_pk(pk)) for pk in conn.execute(select(log.c.pk)).scalars()]
        images = read_images(conn, dialect, table, logged)
        found = sum(match_key(k) in images for k in logged)
        images = with_related(conn, dialect, table, images)
        streamed = {op.doc_id: op for op in (_consumed(table, row) for row, _ in images.values())}
        trips = _sweep(conn, dialect, table, images, streamed)
    loaded = _bootstrap(engine, config)
    return Paths(table, found, streamed, loaded, trips)


def _table_config(name: str, child: str) -> dict[str, Any]:
    return {
        "name": name,
        "primary_key": ["k"],
        "children": [
            {
                "name": child,
                "primary_key": ["child_id"],
                "parent_key": ["parent_k"],
                "field": "children",
            }
        ],
    }


def _consumed(table: CapturedTable, row: dict[str, Any]) -> Upsert:
    [(key, value), *_] = encode(row_event(table, "c", row, 1, 0), 0)
    op = operation_for_event(table.settings, decode_record(key, value))
    assert isinstance(op, Upsert)
    return op


def _bootstrap(engine: Engine, config: Settings) -> dict[str, Upsert]:
    reader = SourceReader(engine, config.tables[0])
    loaded = {}
    for rows in reader.chunks(2):
        for row in rows:
            op = document_for_row(config.tables[0], row)
            assert isinstance(op, Upsert) and op.doc_id not in loaded
            loaded[op.doc_id] = op
    return loaded


def _sweep(
    conn: Any,
    dialect: Any,
    table: CapturedTable,
    images: dict[Any, Any],
    streamed: dict[str, Upsert],
) -> list[Trip]:
    keys = [typed_key(table, doc_id) for doc_id in streamed]
    swept = read_images(conn, dialect, table, keys)  # the sweep's own query, with these binds
    spelt = table.column_names[table.key_columns[0].name]
    fetched = {found: row[spelt] for found, (row, _) in images.items()}
    return [
        Trip(
            reflected=repr(table.key_columns[0].type),
            fetched=fetched.get(match_key(key)),
            doc_id=doc_id,
            swept=key[0],
            found=match_key(key) in swept,
        )
        for doc_id, key in zip(streamed, keys, strict=True)
    ]


def check(paths: Paths) -> None:
    assert paths.logged_found == 6  # three inserts, three children naming their parent
    assert len(paths.streamed) == 3
    assert paths.loaded.keys() == paths.streamed.keys()
    for doc_id, streamed in paths.streamed.items():
        assert streamed.document["children"], streamed.document
        assert digest(paths.loaded[doc_id].document) == digest(streamed.document), doc_id
    assert all(trip.found for trip in paths.trips), paths.trips


def source_engine(url: str) -> Engine:
    """An engine as cdc-sync makes one (its reflection hooks registered)."""
    return create_source_engine(SourceSettings(url=url))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = source_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("case", POSTGRESQL, ids=str)
def test_every_path_agrees_on_postgresql_types(pg_engine: Engine, pg_url: str, case: Case) -> None:
    run(pg_engine, "DROP TABLE IF EXISTS cdc_change_log")
    check(run_paths(pg_engine, pg_url, case))


@pytest.mark.parametrize("case", SQLITE, ids=str)
def test_every_path_agrees_on_sqlite_types(sqlite_url: str, case: Case) -> None:
    engine = source_engine(sqlite_url)
    try:
        check(run_paths(engine, sqlite_url, case))
    finally:
        engine.dispose()
