"""Oracle data-dictionary reads: what install and start-up check before and after DDL.

Every query reads ``ALL_*`` views, which show what the connected user may
see, and names its owner explicitly (the current schema when none is
configured). The functions that judge the rows are pure, so they are tested
without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

CURRENT_SCHEMA = "COALESCE(:owner, SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA'))"

TABLE_COLUMNS = text(
    "SELECT COLUMN_NAME, DATA_TYPE, DATA_LENGTH, DATA_SCALE\n"
    "FROM ALL_TAB_COLUMNS\n"
    f"WHERE OWNER = {CURRENT_SCHEMA} AND TABLE_NAME = :name\n"
    "ORDER BY COLUMN_ID"
)
"""Types as Oracle spells them: ``TIMESTAMP(9)``, ``TIMESTAMP(6) WITH TIME ZONE``, ``LONG``."""

TRIGGER_OWNERSHIP = text(
    "SELECT TABLE_OWNER, TABLE_NAME, TRIGGER_BODY FROM ALL_TRIGGERS\n"
    f"WHERE OWNER = {CURRENT_SCHEMA} AND TRIGGER_NAME = :name"
)
"""A trigger of our name: on which table, and its body (LONG: searched here, not in SQL;
read from the same view that lists it, so whoever sees the trigger sees its body)."""

OBJECT_STATUS = text(
    "SELECT STATUS FROM ALL_OBJECTS\n"
    f"WHERE OWNER = {CURRENT_SCHEMA} AND OBJECT_NAME = :name AND OBJECT_TYPE = :kind"
)

OBJECT_ERRORS = text(
    "SELECT LINE, POSITION, TEXT FROM ALL_ERRORS\n"
    f"WHERE OWNER = {CURRENT_SCHEMA} AND NAME = :name AND TYPE = :kind\n"
    "  AND ATTRIBUTE = 'ERROR'\n"
    "ORDER BY SEQUENCE"
)

STATEMENTS = {
    "table_columns": TABLE_COLUMNS,
    "trigger_ownership": TRIGGER_OWNERSHIP,
    "object_status": OBJECT_STATUS,
    "object_errors": OBJECT_ERRORS,
}
"""Every dictionary query, by name (rendered and parsed by the SQL review tests)."""

KEY_JSON_LIMIT = 4000
"""``JSON_ARRAY`` returns VARCHAR2(4000) by default, and the change log's PK column holds 4000."""


@dataclass(frozen=True)
class OracleColumn:
    name: str
    data_type: str
    data_length: int
    data_scale: int | None = None


def table_columns(conn: Connection, owner: str | None, name: str) -> list[OracleColumn]:
    rows = conn.execute(TABLE_COLUMNS, {"owner": owner, "name": name}).all()
    return [OracleColumn(r[0], r[1], int(r[2] or 0), r[3]) for r in rows]


def column_problems(
    columns: Sequence[OracleColumn], keys: Sequence[str], where: str, *, logged_key: bool
) -> list[str]:
    """Columns cdc-sync cannot read or cannot match back faithfully; one line each.

    `keys`: the primary-key column names as Oracle stores them; `logged_key`:
    the key is written by the trigger (``JSON_ARRAY``) and must fit the change log.
    """
    problems = []
    for column in columns:
        kind = column.data_type
        if kind in ("LONG", "LONG RAW"):
            problems.append(
                f"{where}: column {column.name} is {kind}, which Oracle cannot return through "
                "a row-limited query (bootstrap, verify and timestamp polling page with "
                "FETCH FIRST); convert it to CLOB/BLOB or capture another table"
            )
        if column.name not in keys:
            continue
        if "TIME ZONE" in kind:
            problems.append(
                f"{where}.primary_key: column {column.name} is {kind}, which is not supported "
                "in a key: python-oracledb returns it without its zone, so the logged key "
                "would never match the row again"
            )
        elif kind.startswith("TIMESTAMP") and (column.data_scale or 0) > 6:
            problems.append(
                f"{where}.primary_key: column {column.name} is {kind}: Python datetimes hold "
                "microseconds, so digits 7-9 would be lost and the row never found again; "
                "use TIMESTAMP(6) or less in a key"
            )
    if logged_key:
        wanted = [c for c in columns if c.name in keys]
        width = key_json_width(wanted)
        if width > KEY_JSON_LIMIT:
            detail = ", ".join(f"{c.name} {c.data_type}({c.data_length})" for c in wanted)
            problems.append(
                f"{where}.primary_key: the key as JSON can be {width} bytes ({detail}), more "
                f"than the {KEY_JSON_LIMIT} that JSON_ARRAY and the change log hold: the "
                "trigger would fail the application's writes with ORA-40459"
            )
    return problems


def key_json_width(columns: Iterable[OracleColumn]) -> int:
    """The longest ``JSON_ARRAY(...)`` text the trigger can write for these key columns.

    Text counts its bytes plus quotes (characters JSON escapes count once: a
    key full of quotes or control characters can still overflow); national text
    (NVARCHAR2, NCHAR) counts 3 bytes for each character it holds.
    """
    widths = []
    for column in columns:
        kind = column.data_type
        if kind in ("NUMBER", "FLOAT", "INTEGER", "BINARY_DOUBLE", "BINARY_FLOAT"):
            widths.append(45)  # 40 digits, sign, point and exponent
        elif kind == "DATE":
            widths.append(21)  # "YYYY-MM-DDTHH24:MI:SS"
        elif kind.startswith("TIMESTAMP"):
            widths.append(22 + (column.data_scale or 0))
        elif kind == "RAW":
            widths.append(2 * column.data_length + 2)  # RAWTOHEX
        elif kind in ("NVARCHAR2", "NCHAR"):
            # DATA_LENGTH is 2 bytes a character (AL16UTF16); the JSON is in the database
            # character set (AL32UTF8), up to 3 bytes for each.
            widths.append(3 * column.data_length // 2 + 2)
        else:
            widths.append(column.data_length + 2)
    return sum(widths) + max(len(widths) - 1, 0) + 2


def foreign_trigger(
    name: str, table_owner: str, table_name: str | None, tag: str, rows: Sequence[Any]
) -> str | None:
    """Why an existing trigger of our name must not be replaced; None when it is ours.

    `table_name` None: ours is a schema trigger, whose ``TABLE_NAME`` is NULL.
    """
    for found_owner, found_table, body in rows:
        owner = found_owner if table_name is not None else table_owner
        if (owner, found_table) != (table_owner, table_name) or tag not in (body or ""):
            on = f"{found_owner}.{found_table}" if found_table else f"schema {found_owner}"
            return (
                f"trigger {name} exists on {on} and was not created by "
                "cdc-sync (its body has no cdc-sync tag): install would replace it and "
                "uninstall would drop it; rename or drop it first"
            )
    return None


def trigger_rows(conn: Connection, owner: str | None, name: str) -> list[Any]:
    return list(conn.execute(TRIGGER_OWNERSHIP, {"owner": owner, "name": name}).all())


def compile_errors(conn: Connection, owner: str | None, name: str, kind: str) -> list[str] | None:
    """None when the object is VALID; otherwise Oracle's errors (``LINE/POS: text``)."""
    params = {"owner": owner, "name": name, "kind": kind}
    status = conn.execute(OBJECT_STATUS, params).scalar_one_or_none()
    if status == "VALID":
        return None
    errors = conn.execute(OBJECT_ERRORS, params).all()
    found = [f"line {line}, column {pos}: {message.strip()}" for line, pos, message in errors]
    return found or [f"status {status or 'missing'} and no error in ALL_ERRORS"]
