"""Keyset pagination SQL: short primary-key chunks, never OFFSET (SPEC §2, ORA-01555).

A chunk is ``WHERE <filter> AND (pk...) > (last...) ORDER BY pk... FETCH FIRST n``,
the position spelt out by `cdc_sync.source.keyset.after_key`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, func, select, text

from cdc_sync.source.keyset import after_key

__all__ = ["after_key", "chunk_query", "count_query", "row_filter"]


def row_filter(table: Table, predicate: str | None) -> list[ColumnElement[bool]]:
    """The table's configured row filter (validated config text), as a WHERE clause."""
    return [text(f"({predicate})")] if predicate else []  # type: ignore[list-item]


def chunk_query(
    table: Table,
    key: Sequence[ColumnElement[Any]],
    limit: int,
    last: Sequence[Any] | None = None,
    predicate: str | None = None,
) -> Select[Any]:
    """The next chunk after `last` (None: the first chunk)."""
    query = select(table).where(*row_filter(table, predicate))
    if last is not None:
        query = query.where(after_key(key, last))
    return query.order_by(*key).limit(limit)


def count_query(table: Table, predicate: str | None = None) -> Select[Any]:
    return select(func.count()).select_from(table).where(*row_filter(table, predicate))
