"""The newest modified time of each timestamp-capture table, for status (one MAX per table).

With the modified column indexed (timestamp capture pages by it anyway) this is an index
lookup on Oracle, PostgreSQL and SQLite. The relay compares the same column with its
watermark, so the two differ only by changes it has not published yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Engine, MetaData, Select, Table, func, select

from cdc_sync.config import TableSettings
from cdc_sync.source.schema import find_column, locate


def newest_query(column: Column[Any]) -> Select[tuple[Any]]:
    return select(func.max(column))


class NewestModified:
    """Reflects each table once (for the stored spelling of its names), then reads MAX."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._columns: dict[str, Column[Any]] = {}

    def read(self, tables: Iterable[TableSettings]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        with self.engine.connect() as conn:
            for table in tables:
                column = self._columns.get(table.qualified_name)
                if column is None:
                    located = locate(conn, table)
                    if located is None or not table.modified_column:
                        continue
                    name, schema = located
                    reflected = Table(name, MetaData(), schema=schema, autoload_with=conn)
                    column = find_column(reflected, table.modified_column)
                    if column is None:
                        continue
                    self._columns[table.qualified_name] = column
                found[table.qualified_name] = conn.execute(newest_query(column)).scalar()
        return found
