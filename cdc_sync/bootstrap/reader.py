"""Reading a source table in primary-key chunks, each a short query of its own."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, Engine, MetaData, Select, Table, inspect, select
from sqlalchemy.exc import DBAPIError, NoSuchTableError

from cdc_sync.bootstrap.keyset import chunk_query, count_query, row_filter
from cdc_sync.config import TableSettings
from cdc_sync.database_errors import is_connection_problem, reason
from cdc_sync.errors import ConfigError, DependencyUnavailable
from cdc_sync.retry import Retry
from cdc_sync.source.changelog import chunks
from cdc_sync.source.dialects import dialect_for
from cdc_sync.source.related import attach_related
from cdc_sync.source.schema import CapturedTable
from cdc_sync.source.tables import reflect_tables, twin_problems
from cdc_sync.source.zone import localize, naive_times, resolve_zone

log = logging.getLogger(__name__)

T = TypeVar("T")

Row = dict[str, Any]


class SourceReader:
    """One configured table, read as chunks of row dicts in primary-key order."""

    def __init__(
        self,
        engine: Engine,
        table: TableSettings,
        attempts: int = 4,
        time_zone: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = table
        self.attempts = attempts
        self.time_zone = time_zone
        self.zone: dt.tzinfo = dt.UTC
        self.table = self._call(self._reflect)
        self.key = [self._column(name) for name in table.primary_key]
        # Debezium's events carry their own date-time conversion: bootstrap and verify must
        # build the same documents as the consumer does from them, so no zone is added there.
        self.local_times = (
            frozenset()
            if table.capture == "debezium"
            else naive_times(self.table, skip=[c.name for c in self.key])
        )
        self.dialect = dialect_for(engine.dialect)
        self.composed = self._call(self._reflect_related) if table.composed else None
        """With children or lookups: the tables their rows are read from."""

    def _reflect_related(self) -> CapturedTable:
        with self.engine.connect() as conn:
            return reflect_tables(conn, [(0, self.settings)], zone=self.zone)[0]

    def _call(self, fn: Callable[[], T]) -> T:
        """Run a short query, retrying connection problems; then give up with exit 3."""
        retry = Retry(
            is_connection_problem, first_s=0.5, max_s=5, attempts=self.attempts, logger=log
        )
        try:
            return retry.call("source query", fn)
        except DBAPIError as exc:
            if not is_connection_problem(exc):
                raise
            raise DependencyUnavailable(
                f"source database unavailable while reading {self.settings.qualified_name}: "
                f"{reason(exc)}"
            ) from None

    def _reflect(self) -> Table:
        wanted = self.settings.name
        with self.engine.connect() as conn:
            names = inspect(conn).get_table_names(schema=self.settings.schema_)
        match = next((n for n in names if n == wanted), None) or next(
            (n for n in names if n.upper() == wanted.upper()), None
        )
        if match is None:
            raise ConfigError([f"tables: {self.settings.qualified_name} does not exist in source"])
        try:
            with self.engine.connect() as conn:
                table = Table(match, MetaData(), autoload_with=conn, schema=self.settings.schema_)
                problems = dialect_for(conn.dialect).column_problems(conn, table, self.settings)
                where = f"tables ({self.settings.qualified_name})"
                problems += twin_problems(where, self.settings, table, conn.dialect)
                self.zone = resolve_zone(conn, self.time_zone)
        except NoSuchTableError:
            raise ConfigError(
                [f"tables: {self.settings.qualified_name} does not exist in source"]
            ) from None
        if problems:
            raise ConfigError(problems)
        return table

    def _column(self, name: str) -> Column[Any]:
        for column in self.table.columns:
            if column.name.upper() == name.upper():
                return column
        raise ConfigError(
            [f"tables: {self.settings.qualified_name}.primary_key: no column {name} in the table"]
        )

    def count(self) -> int:
        def run() -> int:
            with self.engine.connect() as conn:
                return int(conn.execute(count_query(self.table, self.settings.filter)).scalar_one())

        return self._call(run)

    def chunk(self, limit: int, last: list[Any] | None) -> list[Row]:
        return self._rows(chunk_query(self.table, self.key, limit, last, self.settings.filter))

    def _rows(self, query: Select[Any]) -> list[Row]:
        """The rows of `query` (columns of the table) as documents are built from them."""

        def run() -> list[Row]:
            with self.engine.connect() as conn:
                result = conn.execute(query)
                names = list(result.keys())
                rows = [dict(zip(names, row, strict=True)) for row in result]
                for row in rows:  # naive date-times of non-key columns are the source zone's
                    for name in self.local_times:
                        row[name] = localize(row[name], self.zone)
                if self.composed is not None:
                    rows = attach_related(conn, self.dialect, self.composed, rows)
            return rows

        return self._call(run)

    def rows_for_keys(self, keys: Sequence[Sequence[Any]]) -> list[Row]:
        """The rows with these keys that are inside the table's filter (absent keys: none)."""
        rows: list[Row] = []
        for part in chunks(keys, 1000):
            query = select(self.table).where(
                *row_filter(self.table, self.settings.filter),
                self.dialect.key_condition(self.key, part),
            )
            rows += self._rows(query)
        return rows

    def chunks(self, limit: int) -> Iterator[list[Row]]:
        """Every row, `limit` at a time; each chunk is its own query and connection checkout."""
        last: list[Any] | None = None
        while True:
            rows = self.chunk(limit, last)
            if rows:
                yield rows
            if len(rows) < limit:
                return
            tail = rows[-1]
            last = [tail[c.name] for c in self.key]
