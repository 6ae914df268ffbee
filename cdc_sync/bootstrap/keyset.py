"""Keyset pagination SQL: short primary-key chunks, never OFFSET (SPEC §2, ORA-01555).

A chunk is ``WHERE <filter> AND (pk...) > (last...) ORDER BY pk... FETCH FIRST n``.
Row-value comparison is spelled out as OR-of-ANDs, which every dialect accepts
and which Oracle, PostgreSQL and SQLite all serve from the primary-key index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, func, or_, select, text


def after_key(columns: Sequence[ColumnElement[Any]], last: Sequence[Any]) -> ColumnElement[bool]:
    """``(c1, c2, ...) > (v1, v2, ...)`` in lexicographic order."""
    if len(columns) != len(last) or not columns:
        raise ValueError("keyset needs one value per primary-key column")
    branches = []
    for i, column in enumerate(columns):
        equal = [columns[j] == last[j] for j in range(i)]
        branches.append(and_(*equal, column > last[i]))
    return or_(*branches)


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
