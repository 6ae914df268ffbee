"""Reflect the configured tables and check them against the config before anything changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, inspect, literal, select, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.exc import DBAPIError

from cdc_sync.config import ChildSettings, LookupSettings, TableSettings
from cdc_sync.documents.columns import AmbiguousColumn, case_twins, resolve, twins_problem
from cdc_sync.errors import ConfigError
from cdc_sync.source.changelog import fold
from cdc_sync.source.key_types import typed_value
from cdc_sync.source.zone import naive_times


@dataclass(frozen=True)
class RelatedTable:
    """A child or lookup table of a composed document, reflected.

    Its triggers log a change of the parent (child) or of the lookup key
    (lookup): `log_name` is what they write into the change log's
    ``table_name``, `link_columns` the columns whose values they write as ``pk``.
    """

    settings: ChildSettings | LookupSettings
    table: Table
    key_columns: list[Column[Any]]
    """Child: its primary key; lookup: its key."""
    link_columns: list[Column[Any]]
    """Child: its parent_key columns; lookup: its key."""
    parent_columns: list[Column[Any]]
    """The parent's columns the link columns match (child: the parent's primary key)."""
    order: list[Column[Any]]
    """Child rows' order within a parent: order_by, then the child's primary key."""
    column_names: dict[str, str]
    log_name: str
    stem: str
    """Base of the trigger names (``<parent>_<table>``, shortened by the dialect)."""
    local_times: frozenset[str] = frozenset()
    """Columns (database spelling) whose naive date-times get the source's zone, as a
    table's do; key and link columns stay as read."""

    @property
    def name(self) -> str:
        return self.log_name

    @property
    def packable(self) -> bool:
        """Whether its change-log rows may be packed (its keys and the parent's are scalars)."""
        return scalar_keys([*self.link_columns, *self.parent_columns])

    def parent_values(self, raw: Sequence[Any]) -> list[Any]:
        """Change-log link values as bind values of the parent columns they match."""
        return [typed_value(c, v) for c, v in zip(self.parent_columns, raw, strict=True)]

    @property
    def slot(self) -> str:
        """Where a composed row holds its rows: the child's field, the lookup's label."""
        if isinstance(self.settings, ChildSettings):
            return self.settings.field
        return self.settings.label

    @property
    def is_child(self) -> bool:
        return isinstance(self.settings, ChildSettings)

    @property
    def modified(self) -> Column[Any] | None:
        column = self.settings.modified_column
        return find_column(self.table, column) if column else None


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
    children: tuple[RelatedTable, ...] = ()
    lookups: tuple[RelatedTable, ...] = ()

    @property
    def related(self) -> tuple[RelatedTable, ...]:
        return self.children + self.lookups

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
        return [typed_value(col, value) for col, value in zip(self.key_columns, raw, strict=True)]

    @property
    def packable(self) -> bool:
        """Whether its change-log rows may be packed (see `cdc_sync.source.changelog`)."""
        return scalar_keys(self.key_columns)


def scalar_keys(columns: Sequence[Column[Any]]) -> bool:
    """Whether these columns' JSON spelling is a scalar: never a list or an object, so one
    key (``[1, "a"]``) cannot be mistaken for a packed row (``[[1], [2]]``).

    Arrays, JSON and types SQLAlchemy does not know (a composite type, a domain over
    an array) may spell as lists or objects; their tables keep one key per row.
    """
    listlike = (sqltypes.ARRAY, sqltypes.JSON, sqltypes.NullType)
    return not any(isinstance(c.type, listlike) for c in columns)


def find_column(table: Table, name: str) -> Column[Any] | None:
    """Exact name first, then a case-insensitive match (`documents.columns.resolve`: among
    columns that differ only in case, the one stored as the unquoted name); raises
    `AmbiguousColumn` when case twins leave it open."""
    # plain str: SQLAlchemy's quoted_name (a quoted lower-case Oracle name) keeps its case
    # through upper()
    found = resolve([str(c.name) for c in table.c], name)
    return None if found is None else table.c[found]


def twin_problems(where: str, settings: Named, table: Table, dialect: SADialect) -> list[str]:
    """Columns that differ only in case, each pair a problem unless `fields` names them apart
    (without fields both would become one lower-cased field)."""
    if settings.fields is not None:
        return []
    excluded = {c.upper() for c in getattr(settings, "exclude", ())}
    spelled = [_spelling(dialect, c.name) for c in table.c]
    kept = [name for name in spelled if name.upper() not in excluded]
    return [twins_problem(twins, f"{where}.fields") for twins in case_twins(kept)]


def _missing(table: Table, key: str, column: str, owner: str) -> str | None:
    """The problem with a configured column: missing, or ambiguous among case twins."""
    try:
        found = find_column(table, column)
    except AmbiguousColumn as exc:
        return f"{key}: {exc}"
    return None if found is not None else f"{key}: column {column} does not exist in {owner}"


def _spelling(dialect: SADialect, name: str) -> str:
    """Undo SQLAlchemy's lower-casing of case-insensitive names where the database folds up.

    A plain `str` (not SQLAlchemy's `quoted_name`): these become the field names
    of row images, and fast JSON encoders take only plain strings as keys.
    """
    if dialect.requires_name_normalize:
        return str(dialect.denormalize_name(name) or name)
    return str(name)


Named = TableSettings | ChildSettings | LookupSettings


def locate(conn: Connection, settings: Named) -> tuple[str, str | None] | None:
    """(name as stored, schema) of a configured table, found as the database folds names."""
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
        problem = _missing(table, key, column, settings.qualified_name)
        problems += [problem] if problem else []
    problems += twin_problems(where, settings, table, conn.dialect)
    if settings.filter and not problems:
        problems += _filter_problems(conn, where, table, settings.filter)
    return problems


def _filter_problems(conn: Connection, where: str, table: Table, predicate: str) -> list[str]:
    try:
        conn.execute(select(literal(1)).select_from(table).where(text(predicate), text("1 = 0")))
    except DBAPIError as exc:
        conn.rollback()
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        return [f"{where}.filter: {predicate!r} is not valid here: {reason}"]
    return []


def _columns(table: Table, names: Sequence[str]) -> list[Column[Any]]:
    return [c for c in (find_column(table, n) for n in names) if c is not None]


def _reflect_related(
    conn: Connection,
    where: str,
    parent: CapturedTable,
    settings: ChildSettings | LookupSettings,
    position: int,
) -> tuple[RelatedTable | None, list[str]]:
    kind = "children" if isinstance(settings, ChildSettings) else "lookups"
    where = f"{where}.{kind}[{position}] ({settings.qualified_name})"
    located = locate(conn, settings)
    if located is None:
        return None, [f"{where}: table {settings.qualified_name} does not exist"]
    name, schema = located
    table = Table(name, MetaData(), schema=schema, autoload_with=conn)
    if isinstance(settings, ChildSettings):
        wanted = {
            "primary_key": settings.primary_key,
            "parent_key": settings.parent_key,
            "order_by": settings.order_by,
            "fields": list(settings.fields or {}),
        }
        keys, links = settings.primary_key, settings.parent_key
        parent_columns = parent.key_columns
    else:
        wanted = {"key": settings.key, "fields": list(settings.fields)}
        keys = links = settings.key
        owner, key = parent.settings.qualified_name, f"{where}.parent_columns"
        missing = [_missing(parent.table, key, c, owner) for c in settings.parent_columns]
        if any(missing):
            return None, [problem for problem in missing if problem]
        parent_columns = _columns(parent.table, settings.parent_columns)
    if settings.modified_column:
        wanted["modified_column"] = [settings.modified_column]
    found = (
        _missing(table, f"{where}.{key}", column, settings.qualified_name)
        for key, columns in wanted.items()
        for column in columns
    )
    problems = [problem for problem in found if problem]
    if isinstance(settings, ChildSettings):
        problems += twin_problems(where, settings, table, conn.dialect)
    child_filter = settings.filter if isinstance(settings, ChildSettings) else None
    if child_filter and not problems:
        problems += _filter_problems(conn, where, table, child_filter)
    if problems:
        return None, problems
    if isinstance(settings, ChildSettings):
        log_name = parent.name
        order = _columns(table, [*settings.order_by, *settings.primary_key])
    else:
        log_name = f"{parent.name}..{settings.label}"
        order = _columns(table, settings.key)
    names = {c.name: _spelling(conn.dialect, c.name) for c in table.c}
    kept = [c.name for c in _columns(table, [*keys, *links])]
    related = RelatedTable(
        settings=settings,
        table=table,
        key_columns=_columns(table, keys),
        link_columns=_columns(table, links),
        parent_columns=parent_columns,
        order=order,
        column_names=names,
        local_times=frozenset(names[c] for c in naive_times(table, skip=kept)),
        log_name=log_name,
        stem="_".join(
            [
                parent.settings.name,
                settings.name,
                *([] if isinstance(settings, ChildSettings) else settings.parent_columns),
            ]
        ),
    )
    return related, []


def _with_related(
    conn: Connection, where: str, parent: CapturedTable, strict: bool
) -> tuple[CapturedTable, list[str]]:
    problems: list[str] = []
    found: dict[bool, list[RelatedTable]] = {True: [], False: []}
    configured: list[ChildSettings | LookupSettings] = [
        *parent.settings.children,
        *parent.settings.lookups,
    ]
    positions = [*enumerate(parent.settings.children), *enumerate(parent.settings.lookups)]
    for settings, (position, _) in zip(configured, positions, strict=True):
        related, trouble = _reflect_related(conn, where, parent, settings, position)
        if related is not None:
            found[related.is_child].append(related)
        elif strict:
            problems += trouble
    composed = replace(parent, children=tuple(found[True]), lookups=tuple(found[False]))
    return composed, problems


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
        located = locate(conn, settings)
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
            names = {c.name: _spelling(conn.dialect, c.name) for c in table.c}
            local = naive_times(table, skip=[k.name for k in keys])
            local_names = frozenset(names[c] for c in local)
            captured = CapturedTable(settings, table, keys, names, zone, local_names)
            if settings.composed:
                captured, related_problems = _with_related(conn, where, captured, strict)
                problems += related_problems
            found.append(captured)
    if problems:
        raise ConfigError(problems)
    return found
