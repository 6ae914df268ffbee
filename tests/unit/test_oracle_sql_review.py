"""Every Oracle statement cdc-sync can produce, rendered for a set of table shapes.

Plain SQL is parsed with sqlglot's Oracle dialect; PL/SQL blocks are checked
for their structure (and the SQL inside them parsed); the text is compared
with golden files under tests/golden/oracle so every change shows in review.
docs/oracle.md must quote the CRASIVTTST statements exactly.

Regenerate the golden files after an intended change:

    UPDATE_GOLDEN=1 dev/test tests/unit/test_oracle_sql_review.py
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlalchemy import CLOB, Column, MetaData, Table, select
from sqlalchemy.dialects import oracle

from cdc_sync.bootstrap.keyset import chunk_query, count_query, row_filter
from cdc_sync.config import SourceSettings, TableSettings
from cdc_sync.source.backlog import oldest_query, waiting_query
from cdc_sync.source.changelog import Change, changelog_table
from cdc_sync.source.dialect import dialect_for
from cdc_sync.source.images import image_query
from cdc_sync.source.install import Plan, script
from cdc_sync.source.oracle import dictionary, driver, preflight
from cdc_sync.source.related import children_query, lookups_query
from cdc_sync.source.relay import delete_query, fan_out_query, older_query, pending_query
from cdc_sync.source.removal import purge_query
from cdc_sync.source.repairs import log_changes_query
from cdc_sync.source.schema import CapturedTable, RelatedTable
from cdc_sync.source.timestamp import page_query, related_page_query
from tests.unit.oracle_typed import oracle_engine, reflect

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "oracle"
DOC = ROOT / "docs" / "oracle.md"
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))
ENGINE = oracle_engine()
SA_DIALECT = ENGINE.dialect  # prepared as cdc-sync prepares every Oracle engine
DIALECT = dialect_for(SA_DIALECT)
BATCH = 1000


@dataclass(frozen=True)
class Shape:
    table: Table
    settings: TableSettings
    changelog_home: str = "app"


def shape(
    name: str,
    columns: list[Column[Any]],
    *,
    schema: str = "app",
    home: str = "app",
    **settings: Any,
) -> Shape:
    table = Table(name, MetaData(), *columns, schema=schema)
    keys = [c.name.upper() if c.name.islower() else c.name for c in table.primary_key.columns]
    config = TableSettings(
        name=name.upper() if name.islower() else name,
        schema=schema.upper(),
        primary_key=keys,
        **settings,
    )
    return Shape(table, config, home)


def reflected_shape(
    name: str, columns: list[tuple[str, str]], key: list[str], **settings: Any
) -> Shape:
    """A table typed and named as cdc-sync reflects it from Oracle (`oracle_typed.reflect`)."""
    table = reflect(name, columns, key, engine=ENGINE)
    return Shape(table, TableSettings(name=name, schema="APP", primary_key=key, **settings))


def num(name: str, *, key: bool = False, precision: int | None = None) -> Column[Any]:
    return Column(name, oracle.NUMBER(precision, 0 if precision else None), primary_key=key)


def text_(name: str, length: int, *, key: bool = False) -> Column[Any]:
    return Column(name, oracle.VARCHAR2(length), primary_key=key)


SHAPES = {
    "crasivttst": shape(
        "crasivttst",
        [
            num("id", key=True, precision=10),
            text_("case_no", 20),
            text_("title", 200),
            Column("body", CLOB),
            text_("status", 10),
            Column("del_yn", oracle.CHAR(1)),
            Column("modified_date", oracle.DATE),
        ],
        home="cdc_sync",
        modified_column="MODIFIED_DATE",
        soft_delete={"column": "DEL_YN", "value": "Y"},
        filter="STATUS <> 'DRAFT'",
    ),
    "text_key": shape("codes", [text_("code", 40, key=True), text_("name", 100)]),
    "date_key": shape(
        "daily",
        [Column("day", oracle.DATE, primary_key=True), num("total"), Column("note", CLOB)],
        modified_column="DAY",
    ),
    "timestamp_key": shape(
        "events",
        [Column("at", oracle.TIMESTAMP, primary_key=True), text_("name", 50)],
        modified_column="AT",
    ),
    "raw_key": shape(
        "blobs", [Column("guid", oracle.RAW(16), primary_key=True), Column("data", oracle.BLOB)]
    ),
    "composite": shape(
        "case_note",
        [
            num("case_id", key=True, precision=10),
            num("note_no", key=True, precision=5),
            Column("note_text", CLOB),
            Column("created_at", oracle.TIMESTAMP),
        ],
        modified_column="CREATED_AT",
    ),
    "quoted_mixed_case": shape(
        "MyTable",
        [Column("MyId", oracle.NUMBER(), primary_key=True), text_("Title", 100)],
    ),
    "other_schema": shape(
        "orders",
        [num("order_id", key=True, precision=12), text_("status", 10)],
        schema="sales",
        home="cdc",
    ),
    # Oracle reserved words SQLAlchemy does not quote (SESSION, ACCESS, ROWS, SIZE, FILE,
    # ONLINE, MODIFY) and one it does (COMMENT), as table and column names.
    "reserved_words": reflected_shape(
        "SESSION",
        [
            ("ACCESS", "NUMBER(10)"),
            ("ROWS", "NUMBER(10)"),
            ("SIZE", "VARCHAR2(40)"),
            ("COMMENT", "CLOB"),
            ("FILE", "RAW(16)"),
            ("ONLINE", "CHAR(1)"),
            ("MODIFY", "DATE"),
        ],
        ["ACCESS"],
        modified_column="MODIFY",
        soft_delete={"column": "ONLINE", "value": "N"},
    ),
    # Zoned timestamps are read as UTC instants (SYS_EXTRACT_UTC), which thin mode can fetch
    # whatever zone a value was stored with; the modified column is compared as one.
    "zoned": reflected_shape(
        "READINGS",
        [
            ("ID", "NUMBER(10)"),
            ("TAKEN_AT", "TIMESTAMP(6) WITH TIME ZONE"),
            ("SEEN_AT", "TIMESTAMP(6) WITH LOCAL TIME ZONE"),
            ("NOTE", "VARCHAR2(40)"),
        ],
        ["ID"],
        modified_column="TAKEN_AT",
    ),
}


def captured(s: Shape) -> CapturedTable:
    names = {c.name: c.name.upper() if c.name.islower() else c.name for c in s.table.c}
    return CapturedTable(s.settings, s.table, list(s.table.primary_key.columns), names)


def sql(statement: Any) -> str:
    compiled = statement.compile(dialect=SA_DIALECT, compile_kwargs={"render_postcompile": True})
    return re.sub(r"[ \t]+\n", "\n", str(compiled)).strip()


def statements(s: Shape) -> Iterator[tuple[str, str]]:
    """(name, statement) for everything cdc-sync runs against this table on Oracle."""
    table = captured(s)
    home = SourceSettings(url="oracle://x")  # type: ignore[arg-type]
    changelog = changelog_table(home, home=s.changelog_home)
    plan = Plan(DIALECT, changelog, False, [table])
    for i, statement in enumerate(plan.install_statements(for_review=True), 1):
        yield f"install {i}", statement
    for when, statement in DIALECT.checks(table, changelog).items():
        yield f"install checks, {when}", statement
    for statement in DIALECT.drop_triggers(table) + DIALECT.drop_changelog(changelog):
        yield "uninstall", statement
    names = [table.name]
    pending = pending_query(changelog, names)
    yield "relay: lock a batch", sql(DIALECT.lock_query(pending, BATCH, single_table=True))
    several = pending_query(changelog, [*names, f"{table.name}..CODES.STATUS"])
    yield "relay: lock a batch of several tables", sql(DIALECT.lock_query(several, BATCH))
    batch = [Change(7, table.name, "U", "[1]"), Change(9, table.name, "U", "[2]")]
    yield "relay: earlier rows held elsewhere", sql(older_query(DIALECT, changelog, names, batch))
    keys = [[_sample(c, i) for c in table.key_columns] for i in (1, 2)]
    images = image_query(table).where(DIALECT.key_condition(table.key_columns, keys))
    yield "relay: current row images", sql(images)
    yield "relay: delete what was published", sql(delete_query(DIALECT, changelog, [7, 9]))
    yield "status: changes waiting", sql(waiting_query(DIALECT, changelog, table.name, 100_000))
    yield "status: the oldest change", sql(oldest_query(DIALECT, changelog, table.name))
    yield "uninstall --table: its change-log rows", sql(purge_query(changelog, [table.name]))
    key = list(table.key_columns)
    first = chunk_query(s.table, key, BATCH, None, s.settings.filter)
    yield "bootstrap and verify: first chunk", sql(first)
    last = [_sample(c, 1) for c in key]
    nxt = chunk_query(s.table, key, BATCH, last, s.settings.filter)
    yield "bootstrap and verify: next chunk", sql(nxt)
    yield "bootstrap: row count", sql(count_query(s.table, s.settings.filter))
    by_key = select(s.table).where(
        *row_filter(s.table, s.settings.filter), DIALECT.key_condition(key, keys)
    )
    yield "verify --continuous: rows of suspect keys", sql(by_key)
    yield (
        "verify --continuous: a repair through the change log",
        sql(log_changes_query(DIALECT, changelog, table)),
    )
    if s.settings.modified_column:
        modified = table.column(s.settings.modified_column)
        since = dt.datetime(2024, 3, 1, 9)
        yield "timestamp: first page", sql(page_query(table, modified, None, since, BATCH))
        position = [since, *last]
        yield "timestamp: next page", sql(page_query(table, modified, position, None, BATCH))


def _sample(column: Column[Any], i: int) -> Any:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = object
    if kind is bytes:
        return bytes([i]) * 16
    if kind in (dt.datetime, dt.date):
        return dt.datetime(2024, 3, i)
    if kind is str:
        return f"K{i}"
    return i


NOTES = Table(
    "crasivttst_note",
    MetaData(),
    num("note_id", key=True, precision=12),
    num("case_id", precision=10),
    Column("note_text", CLOB),
    Column("created_at", oracle.TIMESTAMP),
    Column("del_yn", oracle.CHAR(1)),
    Column("modified_date", oracle.DATE),
    schema="app",
)
CODES = Table(
    "status_code",
    MetaData(),
    text_("code", 10, key=True),
    text_("code_name", 100),
    Column("modified_date", oracle.DATE),
    schema="app",
)


def composed() -> CapturedTable:
    """CRASIVTTST with its notes (child) and status code (lookup), as docs/documents.md shows."""
    s = SHAPES["crasivttst"]
    data = s.settings.model_dump(by_alias=True)
    data.update(
        {
            "children": [
                {
                    "name": "CRASIVTTST_NOTE",
                    "schema": "APP",
                    "primary_key": ["NOTE_ID"],
                    "parent_key": ["CASE_ID"],
                    "field": "notes",
                    "order_by": ["CREATED_AT"],
                    "filter": "DEL_YN = 'N'",
                    "modified_column": "MODIFIED_DATE",
                }
            ],
            "lookups": [
                {
                    "name": "STATUS_CODE",
                    "schema": "APP",
                    "key": ["CODE"],
                    "parent_columns": ["STATUS"],
                    "fields": {"CODE_NAME": "status_name"},
                    "modified_column": "MODIFIED_DATE",
                }
            ],
        }
    )
    settings = TableSettings.model_validate(data)
    parent = captured(Shape(s.table, settings, s.changelog_home))

    def upper(table: Table) -> dict[str, str]:
        return {c.name: c.name.upper() for c in table.c}

    notes = RelatedTable(
        settings.children[0],
        NOTES,
        [NOTES.c.note_id],
        [NOTES.c.case_id],
        parent.key_columns,
        [NOTES.c.created_at, NOTES.c.note_id],
        upper(NOTES),
        parent.name,
        "CRASIVTTST_CRASIVTTST_NOTE",
    )
    codes = RelatedTable(
        settings.lookups[0],
        CODES,
        [CODES.c.code],
        [CODES.c.code],
        [s.table.c.status],
        [CODES.c.code],
        upper(CODES),
        f"{parent.name}..STATUS_CODE.STATUS",
        "CRASIVTTST_STATUS_CODE_STATUS",
    )
    return replace(parent, children=(notes,), lookups=(codes,))


def composed_statements() -> Iterator[tuple[str, str]]:
    """What a composed table adds: its child's and lookup's triggers and reads."""
    table = composed()
    home = SourceSettings(url="oracle://x")  # type: ignore[arg-type]
    changelog = changelog_table(home, home=SHAPES["crasivttst"].changelog_home)
    plan = Plan(DIALECT, changelog, False, [table])
    for i, statement in enumerate(plan.install_statements(for_review=True), 1):
        yield f"install {i}", statement
    for statement in DIALECT.drop_triggers(table):
        yield "uninstall", statement
    notes, codes = table.children[0], table.lookups[0]
    fan_out = fan_out_query(DIALECT, changelog, table, codes, [["OPEN"], ["CLOSED"]])
    yield "relay: a status code changed, log its cases", sql(fan_out)
    yield (
        "relay, bootstrap and verify: the notes of cases",
        sql(children_query(DIALECT, notes, [[1], [2]])),
    )
    yield (
        "relay, bootstrap and verify: status codes",
        sql(lookups_query(DIALECT, codes, [["OPEN"], ["CLOSED"]])),
    )
    since = dt.datetime(2024, 3, 1, 9)
    yield "timestamp: notes, first page", sql(related_page_query(notes, None, since, BATCH))
    yield "timestamp: notes, next page", sql(related_page_query(notes, [since, 7], None, BATCH))


def fixed_statements() -> Iterator[tuple[str, str]]:
    """Statements that do not depend on a table: session setup, dictionary and check queries."""
    yield "session: every connection", driver.SESSION_SETUP
    yield "session: the database's zone", str(DIALECT.database_zone_query())
    for name, query in dictionary.STATEMENTS.items():
        yield f"dictionary: {name}", str(query)
    for name, query in preflight.STATEMENTS.items():
        yield f"check: {name}", str(query)


def render(items: Iterator[tuple[str, str]]) -> str:
    out = []
    for name, statement in items:
        body = script(DIALECT, [statement]).rstrip("\n")
        out.append(f"-- {name}\n{body}")
    return "\n\n".join(out) + "\n"


def golden_text(name: str) -> str:
    header = (
        f"-- Oracle statements of cdc-sync for the table shape {name!r}.\n"
        "-- Generated by tests/unit/test_oracle_sql_review.py; regenerate with\n"
        "-- UPDATE_GOLDEN=1 dev/test tests/unit/test_oracle_sql_review.py\n\n"
    )
    if name == "fixed":
        items = fixed_statements()
    elif name == "composed":
        items = composed_statements()
    else:
        items = statements(SHAPES[name])
    return header + render(items)


@pytest.mark.parametrize("name", [*SHAPES, "composed", "fixed"])
def test_statements_match_the_golden_file(name: str) -> None:
    path = GOLDEN / f"{name}.sql"
    text = golden_text(name)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1"
    assert path.read_text() == text, f"{path} differs: review, then run with UPDATE_GOLDEN=1"


# -- parsing

PLSQL = re.compile(r"^(CREATE OR REPLACE TRIGGER|BEGIN)\b")
IDENTITY_OPTIONS = "(CACHE 100 ORDER)"
"""sqlglot has no grammar for identity options; the clause is checked as text instead."""


def all_statements() -> Iterator[tuple[str, str, str]]:
    for shape_name, s in SHAPES.items():
        for name, statement in statements(s):
            yield shape_name, name, statement
    for name, statement in fixed_statements():
        yield "fixed", name, statement
    for name, statement in composed_statements():
        yield "composed", name, statement


def parse(statement: str) -> sqlglot.Expression:
    expression = sqlglot.parse_one(statement, read="oracle")
    assert expression is not None
    assert not isinstance(expression, sqlglot.exp.Command), f"not parsed: {statement}"
    return expression


@pytest.mark.parametrize(("shape_name", "name", "statement"), list(all_statements()))
def test_each_statement_parses_as_oracle(shape_name: str, name: str, statement: str) -> None:
    if statement == driver.SESSION_SETUP:
        # sqlglot has no ALTER SESSION grammar: check the documented form as text.
        assert re.fullmatch(r"ALTER SESSION SET NLS_SORT = BINARY NLS_COMP = BINARY", statement)
        return
    if statement.startswith("ALTER TRIGGER"):
        # Nor ALTER TRIGGER (SQL Language Reference: ALTER TRIGGER [schema.]trigger ENABLE).
        assert re.fullmatch(r"ALTER TRIGGER [\w.\"$#]+ (ENABLE|DISABLE)", statement), statement
        return
    if statement.startswith("DROP TRIGGER"):  # nor DROP TRIGGER: [schema.]trigger
        assert re.fullmatch(r"DROP TRIGGER [\w.\"$#]+", statement), statement
        return
    if PLSQL.match(statement):
        check_plsql(statement)
        return
    if IDENTITY_OPTIONS in statement:
        assert "GENERATED BY DEFAULT AS IDENTITY (CACHE 100 ORDER) PRIMARY KEY" in statement
        statement = statement.replace(f" {IDENTITY_OPTIONS}", "")
    if statement.startswith("CREATE INDEX"):
        # Nor for a schema-qualified index name (SQL Language Reference, CREATE INDEX:
        # "[ schema. ] index"): parsed without it, the index in the table's schema checked.
        index = re.fullmatch(r"CREATE INDEX (\w+\.)?(\w+) ON (\w+\.)?\w+ \(.*\)", statement)
        assert index and index.group(1) == index.group(3), statement
        statement = statement.replace(f"INDEX {index.group(1) or ''}", "INDEX ", 1)
    expression = parse(statement)
    kind = type(expression).__name__
    first = statement.split(None, 1)[0].upper()
    expected = {"SELECT": "Select", "DELETE": "Delete", "CREATE": "Create", "GRANT": "Grant"}
    assert kind == expected.get(first, kind), (kind, statement)
    if first == "SELECT" and "FOR UPDATE" in statement:
        assert "FETCH FIRST" not in statement  # ORA-02014
    if "FETCH FIRST" in statement and not statement.startswith("SELECT count(*)"):
        assert "ORDER BY" in statement  # a page; a count may take any rows up to its cap


def check_plsql(block: str) -> None:
    """Structure of our PL/SQL: a row trigger, or an anonymous block around one DDL statement."""
    assert block.endswith("END;"), block
    if block.startswith("BEGIN"):
        match = re.fullmatch(
            r"BEGIN\n    EXECUTE IMMEDIATE '([^']+)';\nEXCEPTION\n"
            r"    WHEN OTHERS THEN IF SQLCODE != (-\d+) THEN RAISE; END IF;\nEND;",
            block,
        )
        assert match, block
        parse(match.group(1))
        assert match.group(2) in ("-4080", "-942")
        return
    lines = block.splitlines()
    assert re.fullmatch(r"CREATE OR REPLACE TRIGGER [\w.\"$#]+", lines[0]), lines[0]
    if lines[2] == "FOR EACH ROW" and lines[3] != "DISABLE":  # a re-install's enabled text
        lines.insert(3, "DISABLE")
    if lines[1].startswith("AFTER TRUNCATE"):
        check_truncate_trigger(lines)
        return
    assert re.fullmatch(r"AFTER INSERT OR UPDATE OR DELETE ON [\w.\"$#]+", lines[1]), lines[1]
    assert lines[2:7] == [
        "FOR EACH ROW",
        "DISABLE",  # created disabled, enabled after install's status check
        "DECLARE",
        "    v_txid VARCHAR2(64) := DBMS_TRANSACTION.LOCAL_TRANSACTION_ID;",
        "BEGIN",
    ]
    assert re.fullmatch(r"    -- cdc-sync: change capture for [\w.$#]+", lines[7]), lines[7]
    body = lines[8:-1]
    if body[0].startswith("    IF NOT INSERTING AND "):
        check_link_trigger(body)
        return
    assert body[0] == "    IF INSERTING THEN" and body[-1] == "    END IF;"
    assert [b.strip() for b in body if b.strip().startswith(("ELSIF", "ELSE"))] == [
        "ELSIF DELETING THEN",
        next(b.strip() for b in body if b.strip().startswith("ELSIF :OLD")),
        "ELSE",
    ]
    changed = next(b.strip() for b in body if b.strip().startswith("ELSIF :OLD"))
    condition = changed.removeprefix("ELSIF ").removesuffix(" THEN")
    parse(f"SELECT 1 FROM DUAL WHERE {_records(condition)}")
    inserts = [b.strip() for b in body if b.strip().startswith("INSERT")]
    assert len(inserts) == 5  # I, D, D+I on a key change, U
    for insert in inserts:
        assert insert.endswith(", v_txid);") and "NULL ON NULL)" in insert
        parse(_records(insert.removesuffix(";")))


def check_truncate_trigger(lines: list[str]) -> None:
    """The schema trigger that logs a TRUNCATE of the table as its whole-table marker."""
    assert re.fullmatch(r"AFTER TRUNCATE ON ([\w\"$#]+\.)?SCHEMA", lines[1]), lines[1]
    assert lines[2:6] == [
        "DISABLE",
        "DECLARE",
        "    v_txid VARCHAR2(64) := DBMS_TRANSACTION.LOCAL_TRANSACTION_ID;",
        "BEGIN",
    ]
    assert re.fullmatch(r"    -- cdc-sync: change capture for [\w.$#]+", lines[6]), lines[6]
    condition = " ".join(lines[7:9]).strip().removeprefix("IF ").removesuffix(" THEN")
    functions = {"ORA_DICT_OBJ_OWNER": "o.owner", "ORA_DICT_OBJ_NAME": "o.name"}
    for function, column in {**functions, "ORA_DICT_OBJ_TYPE": "o.kind"}.items():
        condition = condition.replace(function, column)
    parse(f"SELECT 1 FROM DUAL o WHERE {condition}")
    insert = lines[9].strip()
    assert ", 'D', '[]', v_txid);" in insert
    parse(insert.removesuffix(";"))
    assert lines[10:] == ["    END IF;", "END;"]


def check_link_trigger(body: list[str]) -> None:
    """A child's or lookup's trigger: the old link (not on insert), then the new one."""
    conditions = [
        b.strip().removeprefix("IF ").removeprefix("ELSIF ").removesuffix(" THEN")
        for b in body
        if b.strip().startswith(("IF ", "ELSIF "))
    ]
    assert conditions[0].startswith("NOT INSERTING AND ")
    assert conditions[1].startswith("INSERTING AND ") and conditions[2].startswith("UPDATING AND ")
    for condition in conditions:
        plain = condition.replace("NOT INSERTING AND ", "").replace("INSERTING AND ", "")
        parse(f"SELECT 1 FROM DUAL WHERE {_records(plain.replace('UPDATING AND ', ''))}")
    inserts = [b.strip() for b in body if b.strip().startswith("INSERT")]
    assert len(inserts) == 3  # old link; new link on insert; new link on a move
    for insert in inserts:
        assert ", 'U', JSON_ARRAY(" in insert and insert.endswith(" NULL ON NULL), v_txid);")
        parse(_records(insert.removesuffix(";")))


def _records(plsql: str) -> str:
    """:OLD / :NEW pseudo-records as table aliases, so sqlglot can parse the SQL around them."""
    return plsql.replace(":OLD.", "old_.").replace(":NEW.", "new_.")


# -- what the statements must say


def test_other_schema_writes_the_qualified_change_log_and_grants_its_owner() -> None:
    found = dict(statements(SHAPES["other_schema"]))
    assert found["install 3"].startswith("CREATE INDEX CDC.CDC_CHANGE_LOG_TN ON CDC.")
    assert found["install 4"] == "GRANT INSERT ON CDC.CDC_CHANGE_LOG TO SALES"
    assert found["install 5"].startswith("CREATE OR REPLACE TRIGGER SALES.CDC_ORDERS_TRG\n")
    assert found["install 5"].count("INSERT INTO CDC.CDC_CHANGE_LOG (") == 5  # one per case
    assert "FROM cdc.cdc_change_log" in found["relay: lock a batch"]


def test_docs_quote_the_crasivttst_statements_exactly() -> None:
    """docs/oracle.md is what a DBA approves: it must be what the code runs."""
    doc = DOC.read_text()
    for name, statement in statements(SHAPES["crasivttst"]):
        assert statement in doc, f"docs/oracle.md lacks the current {name!r} statement"
    for name, statement in fixed_statements():
        assert statement in doc, f"docs/oracle.md lacks the current {name!r} statement"
    for name, statement in composed_statements():
        assert statement in doc, f"docs/oracle.md lacks the current composed {name!r} statement"
