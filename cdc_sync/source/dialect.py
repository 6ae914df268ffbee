"""What differs per database, behind one small interface; `dialect_for` picks the module.

Each database's SQL lives in its own module (`oracle`, `postgresql`, `sqlite`).
Triggers have no SQLAlchemy construct, so their DDL is text built only from
identifiers that passed config validation and were quoted by the dialect's
identifier preparer. Reads and deletes use SQLAlchemy Core with bind parameters.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import Column, Connection, Row, Select, Table, and_, tuple_
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.sql.elements import ColumnElement

from cdc_sync.config import TableSettings
from cdc_sync.source.changelog import MARKER, Op, chunks
from cdc_sync.source.schema import CapturedTable, RelatedTable

_SAFE_LITERAL = re.compile(r"^[A-Za-z0-9_$#.]+$")


class Dialect:
    """Base: the PostgreSQL-like defaults; subclasses override what their database needs."""

    name: ClassVar[str]
    row_locks: ClassVar[bool] = True
    """False where the database has no row locks (SQLite): run a single relay there."""
    max_identifier: ClassVar[int] = 128
    """The longest identifier the database takes at most; an engine's dialect may say less."""
    statement_end: ClassVar[str] = ";"
    qualified_changelog: ClassVar[bool] = True
    """Triggers name the change log with its schema (False where triggers cannot: SQLite)."""

    def __init__(self, sa_dialect: SADialect, *, notify: bool = True) -> None:
        self.preparer = sa_dialect.identifier_preparer
        self.notify = notify
        """Triggers notify the relay at commit where the database can (`source.notify`)."""
        # A connected dialect knows the database's limit (Oracle: 30 before 12.2 compatibility).
        limit = getattr(sa_dialect, "max_identifier_length", None) or self.max_identifier
        self.identifier_limit = min(self.max_identifier, limit)

    # -- naming

    def ident(self, name: str) -> str:
        return str(self.preparer.quote(name))

    def table_ref(self, table: Table) -> str:
        schema = f"{self.ident(table.schema)}." if table.schema else ""
        return schema + self.ident(table.name)

    def object_name(self, table: CapturedTable | RelatedTable, suffix: str) -> str:
        """``cdc_<table>_<suffix>``, shortened with a hash when too long for the database.

        A child or lookup table's triggers are named after parent and table
        (``cdc_<parent>_<child>_<suffix>``): one table may serve several parents.
        """
        stem = table.stem if isinstance(table, RelatedTable) else table.settings.name
        return self.fit(f"cdc_{stem}", suffix.lower()).lower()

    def fit(self, stem: str, suffix: str) -> str:
        """``<stem>_<suffix>``, shortened with a hash when too long for the database."""
        name = f"{stem}_{suffix}"
        if len(name) > self.identifier_limit:
            digest = hashlib.sha1(name.lower().encode()).hexdigest()[:8]
            name = f"{name[: self.identifier_limit - 10 - len(suffix)]}_{digest}_{suffix}"
        return name

    def qualified(self, table: CapturedTable | RelatedTable, name: str) -> str:
        schema = table.table.schema
        return f"{self.ident(schema)}.{self.ident(name)}" if schema else self.ident(name)

    @staticmethod
    def literal(value: str) -> str:
        """A SQL string literal of a validated identifier (never of data)."""
        if not _SAFE_LITERAL.fullmatch(value):
            raise ValueError(f"{value!r} is not a plain identifier")
        return f"'{value}'"

    def columns(self, table: CapturedTable | RelatedTable, prefix: str) -> list[str]:
        """The columns a trigger logs as ``pk``: the key, or a child's or lookup's link."""
        if isinstance(table, RelatedTable):
            return [f"{prefix}{self.ident(c.name)}" for c in table.link_columns]
        return [f"{prefix}{self.ident(c.name)}" for c in table.key_columns]

    def changelog_home(self, conn: Connection) -> str | None:
        """The change log's schema when none is configured: the installing user's default.

        Triggers run in their table's schema (Oracle) or under the writing
        session's search path (PostgreSQL), so an unqualified change-log name
        would resolve somewhere else there.
        """
        if not self.qualified_changelog:
            return None
        return conn.dialect.default_schema_name

    def database_zone_query(self) -> str | None:
        """SQL returning the zone of the database's naive date-times (None: UTC)."""
        return "SELECT current_setting('TimeZone')"

    # -- checks against the database before anything is created (each: problems, one a line)

    def column_problems(self, conn: Connection, table: Table, settings: TableSettings) -> list[str]:
        """Columns this database cannot capture or page through faithfully."""
        return []

    def foreign_triggers(self, conn: Connection, table: CapturedTable) -> list[str]:
        """Triggers with our names that cdc-sync did not create (never replaced or dropped)."""
        return []

    def install_triggers(
        self, conn: Connection, table: CapturedTable, changelog: Table
    ) -> list[str]:
        """Create the table's triggers; what did not compile (see `failed_objects`)."""
        for statement in self.create_triggers(table, changelog):
            conn.exec_driver_sql(statement)
        return self.failed_objects(conn, table)

    def failed_objects(self, conn: Connection, table: CapturedTable) -> list[str]:
        """After `create_triggers` ran: what did not compile, with the database's errors.

        Objects that failed are dropped again before this returns, so a table is
        never left with a trigger that breaks the application's writes.
        """
        return []

    def key_json(self, table: CapturedTable | RelatedTable, record: str) -> str:
        """The JSON-array text of the logged columns of `record` (a trigger's ``NEW``/``OLD``,
        or a table reference), spelled as the table's own trigger writes it."""
        raise NotImplementedError

    # -- DDL (each item is one statement, executed on its own)

    def grant_insert(self, changelog: Table, owner: str) -> list[str]:
        """What a trigger owned by `owner` needs to write the change log of another schema."""
        return []

    def create_changelog(self, changelog: Table) -> list[str]:
        raise NotImplementedError

    def create_changelog_index(self, changelog: Table) -> list[str]:
        """An index on (table_name, id), where the database's reads need one (Oracle)."""
        return []

    def drop_changelog(self, changelog: Table) -> list[str]:
        return [f"DROP TABLE IF EXISTS {self.table_ref(changelog)}"]

    def create_triggers(self, table: CapturedTable, changelog: Table) -> list[str]:
        raise NotImplementedError

    def drop_triggers(self, table: CapturedTable) -> list[str]:
        raise NotImplementedError

    def enable_triggers(self, table: CapturedTable) -> list[str]:
        """What enables triggers `create_triggers` made disabled (Oracle), for `source print`."""
        return []

    def create_related_triggers(self, table: CapturedTable, changelog: Table) -> list[str]:
        """Triggers on a composed table's children and lookups (after its own)."""
        return [s for r in table.related for s in self.create_link_triggers(r, changelog)]

    def drop_related_triggers(self, table: CapturedTable) -> list[str]:
        return [s for r in table.related for s in self.drop_link_triggers(r)]

    def create_link_triggers(self, related: RelatedTable, changelog: Table) -> list[str]:
        """Log ``U`` of the parent (child) or lookup key (lookup) from ``OLD`` and ``NEW``.

        Nothing is logged for a NULL link; an update logs the old value, and the
        new one too when it differs (a child moving to another parent).
        """
        raise NotImplementedError(f"{self.name}: children and lookups")

    def drop_link_triggers(self, related: RelatedTable) -> list[str]:
        raise NotImplementedError(f"{self.name}: children and lookups")

    def insert_change(
        self, changelog: Table, table: CapturedTable | RelatedTable, op: Op, pk: str
    ) -> str:
        """The INSERT a trigger runs; `pk` is the dialect's JSON-array expression."""
        cl = self.table_ref(changelog)
        return (
            f"INSERT INTO {cl} (table_name, op, pk, txid) "
            f"VALUES ({self.literal(table.name)}, '{op}', {pk}, {self.txid()})"
        )

    def txid(self) -> str:
        return "NULL"

    def notify_channel(self, changelog: Table) -> str | None:
        """The channel the triggers notify at commit, where the database has one."""
        return None

    def comment(self, table: CapturedTable | RelatedTable) -> str:
        return f"{MARKER}: change capture for {table.name}"

    # -- DML

    def engine_options(self, batch_size: int) -> dict[str, Any]:
        return {}

    def lock_query(
        self, query: Select[Any], size: int, *, single_table: bool = False
    ) -> Select[Any]:
        """`query` (change-log rows in id order) locking up to `size` rows, skipping held ones;
        `single_table`: it reads the rows of one table name."""
        return query.limit(size).with_for_update(skip_locked=True)

    def lock_batch(
        self, conn: Connection, query: Select[Any], size: int, *, single_table: bool = False
    ) -> Sequence[Row[Any]]:
        """Lock up to `size` change-log rows in id order, skipping rows other relays hold."""
        return conn.execute(self.lock_query(query, size, single_table=single_table)).all()

    def by_table(self, query: Select[Any]) -> Select[Any]:
        """`query`, reading the change-log rows of one table name, as the database reads them
        best (Oracle: through the (table_name, id) index)."""
        return query

    def key_condition(
        self, columns: Sequence[Column[Any]], keys: Sequence[Sequence[Any]]
    ) -> ColumnElement[bool]:
        """Rows whose key is one of `keys` (at most 1000 of them)."""
        if len(columns) == 1:
            return columns[0].in_([k[0] for k in keys])
        return tuple_(*columns).in_([tuple(k) for k in keys])

    def ids_in(self, column: Column[Any], ids: Sequence[int]) -> ColumnElement[bool]:
        """Change-log rows whose id is one of `ids` (at most 1000 of them)."""
        return column.in_(ids)

    def ids_not_in(self, column: Column[Any], ids: Sequence[int]) -> ColumnElement[bool]:
        """Change-log rows whose id is none of `ids` (any number of them)."""
        return and_(*(column.not_in(chunk) for chunk in chunks(ids, 1000)))


def dialect_for(sa_dialect: SADialect, *, notify: bool = True) -> Dialect:
    from cdc_sync.source.oracle import OracleDialect
    from cdc_sync.source.postgresql import PostgresDialect
    from cdc_sync.source.sqlite import SqliteDialect

    known: dict[str, type[Dialect]] = {
        "oracle": OracleDialect,
        "postgresql": PostgresDialect,
        "sqlite": SqliteDialect,
    }
    try:
        return known[sa_dialect.name](sa_dialect, notify=notify)
    except KeyError:
        from cdc_sync.errors import ConfigError

        raise ConfigError(
            [
                f"source.url: database {sa_dialect.name!r} is not supported "
                "(oracle, postgresql, sqlite)"
            ]
        ) from None
