"""Reading a composed document's related rows: children by parent keys, lookups by their keys.

Shared by the relay (trigger and timestamp modes), bootstrap and verify, so
every path attaches the same rows in the same order. Keys go in IN lists of at
most 1000 (Oracle's limit); a parent's children come in the child's
`order_by`, then primary-key order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Select, select, text

from cdc_sync.documents.compose import composed_row
from cdc_sync.source.changelog import chunks
from cdc_sync.source.dialect import Dialect
from cdc_sync.source.images import KeyTuple, match_key
from cdc_sync.source.schema import CapturedTable, RelatedTable
from cdc_sync.source.zone import localize

Row = dict[str, Any]


def value_of(table: CapturedTable, row: Row, column: Column[Any]) -> Any:
    """A column's value from a row under the database's spelling or SQLAlchemy's name."""
    spelt = table.column_names.get(column.name, column.name)
    return row[spelt] if spelt in row else row[column.name]


def distinct_keys(keys: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Keys without repeats and without any NULL part (NULL matches nothing)."""
    seen: dict[KeyTuple, list[Any]] = {}
    for key in keys:
        if all(v is not None for v in key):
            seen.setdefault(match_key(key), list(key))
    return list(seen.values())


def _rows(
    related: RelatedTable, conn: Connection, stmt: Any, zone: dt.tzinfo
) -> Iterable[tuple[KeyTuple, Row]]:
    columns = list(related.table.c)  # the statements select exactly these, in this order
    names = [related.column_names[c.name] for c in columns]
    links = [columns.index(c) for c in related.link_columns]
    for values in conn.execute(stmt):
        row = dict(zip(names, values, strict=True))
        for name in related.local_times:  # the source's zone, as for the parent's columns
            row[name] = localize(row[name], zone)
        yield match_key([values[i] for i in links]), row


def read_children(
    conn: Connection,
    dialect: Dialect,
    child: RelatedTable,
    parent_keys: Sequence[Sequence[Any]],
    zone: dt.tzinfo = dt.UTC,
) -> dict[KeyTuple, list[Row]]:
    """Children by parent key, in order; parents without children are absent."""
    found: dict[KeyTuple, list[Row]] = {}
    for chunk in chunks(parent_keys, 1000):
        for key, row in _rows(child, conn, children_query(dialect, child, chunk), zone):
            found.setdefault(key, []).append(row)
    return found


def read_lookups(
    conn: Connection,
    dialect: Dialect,
    lookup: RelatedTable,
    keys: Sequence[Sequence[Any]],
    zone: dt.tzinfo = dt.UTC,
) -> dict[KeyTuple, Row]:
    found: dict[KeyTuple, Row] = {}
    for chunk in chunks(keys, 1000):
        found.update(_rows(lookup, conn, lookups_query(dialect, lookup, chunk), zone))
    return found


def children_query(
    dialect: Dialect, child: RelatedTable, parent_keys: Sequence[Sequence[Any]]
) -> Select[Any]:
    """The children of ≤ 1000 parents, inside the child's filter, in order."""
    query = select(*child.table.c).where(dialect.key_condition(child.link_columns, parent_keys))
    predicate = getattr(child.settings, "filter", None)
    if predicate:
        query = query.where(text(f"({predicate})"))
    return query.order_by(*child.order)


def lookups_query(
    dialect: Dialect, lookup: RelatedTable, keys: Sequence[Sequence[Any]]
) -> Select[Any]:
    """The lookup rows of ≤ 1000 keys."""
    return select(*lookup.table.c).where(dialect.key_condition(lookup.link_columns, keys))


def attach_related(
    conn: Connection, dialect: Dialect, table: CapturedTable, rows: Sequence[Row]
) -> list[Row]:
    """Each parent row with its children and lookups attached (`composed_row`)."""
    if not table.related or not rows:
        return list(rows)
    keys = [[value_of(table, row, c) for c in table.key_columns] for row in rows]
    wanted = distinct_keys(keys)
    children = {
        child.slot: read_children(conn, dialect, child, wanted, table.zone)
        for child in table.children
    }
    references: dict[str, list[list[Any]]] = {}
    lookups: dict[str, dict[KeyTuple, Row]] = {}
    for lookup in table.lookups:
        label = lookup.slot
        references[label] = [
            [value_of(table, row, c) for c in lookup.parent_columns] for row in rows
        ]
        lookups[label] = read_lookups(
            conn, dialect, lookup, distinct_keys(references[label]), table.zone
        )
    out = []
    for i, (row, key) in enumerate(zip(rows, keys, strict=True)):
        parent = match_key(key)
        out.append(
            composed_row(
                row,
                {name: found.get(parent, []) for name, found in children.items()},
                {
                    label: found.get(match_key(references[label][i]))
                    for label, found in lookups.items()
                },
            )
        )
    return out


def with_related(
    conn: Connection,
    dialect: Dialect,
    table: CapturedTable,
    images: dict[KeyTuple, tuple[Row, bool]],
) -> dict[KeyTuple, tuple[Row, bool]]:
    """`read_images`' result with related rows attached to the rows inside the filter."""
    inside = [(key, row) for key, (row, ok) in images.items() if ok]
    composed = attach_related(conn, dialect, table, [row for _, row in inside])
    out = dict(images)
    for (key, _), row in zip(inside, composed, strict=True):
        out[key] = (row, True)
    return out
