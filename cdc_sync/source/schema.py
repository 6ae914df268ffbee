"""Reflect the configured tables and check them against the config before anything changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, inspect, literal, select, text
from sqlalchemy.exc import DBAPIError

from cdc_sync.config import TableSettings
from cdc_sync.errors import ConfigError
from cdc_sync.source.changelog import fold
from cdc_sync.source.zone import naive_times


@dataclass(frozen=True)
class CapturedTable:
    """A configured table with its reflected columns (key columns in configured order)."""

    settings: TableSettings
    table: Table
    key_columns: list[Column[Any]]
    column_names: dict[str, str]
    """Reflected column name → the database's own spelling (Oracle: upper-case)."""
    zone: dt.tzinfo = dt.UTC
    """The source's zone for naive date-times (`cdc_sync.source.zone`)."""
    local_times: frozenset[str] = frozenset()
    """Non-key columns (database spelling) whose naive date-times get `zone` at the edge."""

    @property
    def name(self) -> str:
        """The value the triggers write into the change log's ``table_name``."""
        return self.settings.qualified_name

    def column(self, name: str) -> Column[Any]:
        found = find_column(self.table, name)
        assert found is not None, name  # checked by reflect_tables
        return found

    def key_values(self, raw: Sequence[Any]) -> list[Any]:
        """Change-log key values (from JSON) as bind values of the key columns' types."""
        return [_coerce(col, value) for col, value in zip(self.key_columns, raw, strict=True)]


def find_column(table: Table, name: str) -> Column[Any] | None:
    """Exact name first, then a unique case-insensitive match."""
    if name in table.c:
        return table.c[name]
    matches = [c for c in table.c if c.name.upper() == name.upper()]
    return matches[0] if len(matches) == 1 else None


def _python_type(column: Column[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _coerce(column: Column[Any], value: Any) -> Any:
    kind = _python_type(column)
    if isinstance(value, str) and kind is dt.datetime:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, str) and kind is dt.date:
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, Decimal) and kind is int and value == value.to_integral_value():
        return int(value)
    if isinstance(value, int) and kind is Decimal:
        # SQLAlchemy's Oracle decimal binding formats ints through float ("%.10f").
        return Decimal(value)
    if isinstance(value, str) and kind is bytes:
        # Oracle RAWTOHEX text; PostgreSQL's bytea text has a "\x" prefix.
        return bytes.fromhex(value.removeprefix("\\x"))
    if isinstance(value, int | Decimal) and kind is str:
        return str(value)
    return value


def _spelling(conn: Connection, name: str) -> str:
    """Undo SQLAlchemy's lower-casing of case-insensitive names where the database folds up."""
    if conn.dialect.requires_name_normalize:
        return str(conn.dialect.denormalize_name(name) or name)
    return name


def _locate(conn: Connection, settings: TableSettings) -> tuple[str, str | None] | None:
    inspector = inspect(conn)
    schema = fold(settings.schema_) if settings.schema_ else None
    for name in dict.fromkeys((fold(settings.name), settings.name)):
        if inspector.has_table(name, schema=schema):
            return _as_stored(inspector.get_table_names(schema=schema), name), schema
    return None


def _as_stored(names: list[str], name: str) -> str:
    # SQLite finds tables case-insensitively but reflects a primary key only
    # under the name exactly as the table was created.
    if name in names:
        return name
    return next((n for n in names if n.lower() == name.lower()), name)


def _check(conn: Connection, where: str, settings: TableSettings, table: Table) -> list[str]:
    problems = []
    declared = [c.name.upper() for c in table.primary_key.columns]
    configured = [c.upper() for c in settings.primary_key]
    if not declared:
        problems.append(f"{where}: table {settings.qualified_name} has no primary key")
    elif sorted(declared) != sorted(configured):
        problems.append(
            f"{where}.primary_key: {settings.primary_key} does not match the primary key "
            f"of {settings.qualified_name} ({', '.join(declared)})"
        )
    wanted = [(f"{where}.primary_key", c) for c in settings.primary_key]
    if settings.modified_column:
        wanted.append((f"{where}.modified_column", settings.modified_column))
    if settings.soft_delete:
        wanted.append((f"{where}.soft_delete.column", settings.soft_delete.column))
    wanted += [(f"{where}.fields", c) for c in settings.fields or {}]
    wanted += [(f"{where}.exclude", c) for c in settings.exclude]
    for key, column in wanted:
        if find_column(table, column) is None:
            problems.append(f"{key}: column {column} does not exist in {settings.qualified_name}")
    if settings.filter and not problems:
        try:
            probe = (
                select(literal(1)).select_from(table).where(text(settings.filter), text("1 = 0"))
            )
            conn.execute(probe)
        except DBAPIError as exc:
            conn.rollback()
            reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
            problems.append(f"{where}.filter: {settings.filter!r} is not valid here: {reason}")
    return problems


def reflect_tables(
    conn: Connection,
    tables: Sequence[tuple[int, TableSettings]],
    strict: bool = True,
    zone: dt.tzinfo = dt.UTC,
) -> list[CapturedTable]:
    """Reflect (config index, table) pairs; raise one ConfigError listing every problem.

    With ``strict=False`` (uninstall) missing tables are skipped and columns not checked.
    """
    from cdc_sync.source.dialect import dialect_for  # the dialect module builds on this one

    dialect = dialect_for(conn.dialect)
    problems: list[str] = []
    found = []
    for index, settings in tables:
        where = f"tables[{index}] ({settings.qualified_name})"
        located = _locate(conn, settings)
        if located is None:
            if not strict:
                continue
            problems.append(f"{where}: table {settings.qualified_name} does not exist")
            continue
        name, schema = located
        table = Table(name, MetaData(), schema=schema, autoload_with=conn)
        table_problems = _check(conn, where, settings, table) if strict else []
        if strict and not table_problems:
            table_problems = dialect.column_problems(conn, table, settings)
        problems += table_problems
        if not table_problems:
            keys = [
                k for k in (find_column(table, c) for c in settings.primary_key) if k is not None
            ]
            names = {c.name: _spelling(conn, c.name) for c in table.c}
            local = naive_times(table, skip=[k.name for k in keys])
            local_names = frozenset(names[c] for c in local)
            found.append(CapturedTable(settings, table, keys, names, zone, local_names))
    if problems:
        raise ConfigError(problems)
    return found
