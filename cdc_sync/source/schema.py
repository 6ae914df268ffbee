"""The configured tables as reflected (`CapturedTable`, `RelatedTable`) and how a configured
name is found in the database; `tables.reflect_tables` reflects and checks them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Table, inspect
from sqlalchemy import types as sqltypes

from cdc_sync.config import ChildSettings, LookupSettings, TableSettings
from cdc_sync.documents.columns import resolve
from cdc_sync.source.changelog import fold
from cdc_sync.source.key_types import typed_value


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
