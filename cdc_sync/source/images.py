"""Current row images → change events, shared by the trigger relay and timestamp polling."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, case, literal, select, text

from cdc_sync.documents.compose import CHILDREN, LOOKUPS, refused_row, too_large, too_many
from cdc_sync.documents.mapping import REFUSED, dumps
from cdc_sync.events.model import ChangeEvent, Op
from cdc_sync.events.values import UnconvertibleValue, row_to_json, to_json_value
from cdc_sync.source.changelog import chunks
from cdc_sync.source.dialect import Dialect
from cdc_sync.source.schema import CapturedTable
from cdc_sync.source.zone import localize

log = logging.getLogger(__name__)

IN_FILTER = "cdc_sync_in_filter"
_INT64 = 2**63 - 1
KeyTuple = tuple[Any, ...]


def match_key(values: Iterable[Any]) -> KeyTuple:
    """A hashable form of key values that is equal for the change log's and the row's spelling."""
    out = []
    for value in values:
        kind = value.__class__
        if kind is str or (kind is int and -_INT64 <= value <= _INT64):
            out.append(value)  # the common keys, as to_json_value would return them
            continue
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        if isinstance(value, bytes | bytearray | memoryview):
            out.append(bytes(value))  # binary values are dropped from JSON: keep them here
        else:
            out.append(to_json_value(value))
    return tuple(out)


def image_query(table: CapturedTable) -> Select[Any]:
    """All columns, plus a flag telling whether the row is inside the table's row filter."""
    flag = (
        case((text(f"({table.settings.filter})"), literal(1)), else_=literal(0))
        if table.settings.filter
        else literal(1)
    )
    return select(*table.table.c, flag.label(IN_FILTER))


def split_row(table: CapturedTable, mapping: Any) -> tuple[dict[str, Any], bool]:
    """The row under the database's own column spelling, and whether it passes the filter."""
    row = {table.column_names[c.name]: mapping[c] for c in table.table.c}
    for name in table.local_times:
        row[name] = localize(row[name], table.zone)
    return row, bool(mapping[IN_FILTER])


def read_images(
    conn: Connection, dialect: Dialect, table: CapturedTable, keys: Sequence[Sequence[Any]]
) -> dict[KeyTuple, tuple[dict[str, Any], bool]]:
    """Current rows for the keys, in chunks of at most 1000 keys; absent keys are missing."""
    found: dict[KeyTuple, tuple[dict[str, Any], bool]] = {}
    query = image_query(table)
    for chunk in chunks(keys, 1000):
        stmt = query.where(dialect.key_condition(table.key_columns, chunk))
        for mapping in conn.execute(stmt).mappings():
            row, inside = split_row(table, mapping)
            found[match_key(mapping[c] for c in table.key_columns)] = (row, inside)
    return found


def key_of_row(table: CapturedTable, row: dict[str, Any]) -> list[Any]:
    return [row[table.column_names[c.name]] for c in table.key_columns]


def is_soft_deleted(table: CapturedTable, row: dict[str, Any]) -> bool:
    soft = table.settings.soft_delete
    if soft is None:
        return False
    # The same rule as the consumer's, so relay and consumer agree on what is deleted.
    return soft.matches(row[table.column_names[table.column(soft.column).name]])


def row_event(
    table: CapturedTable,
    op: Op,
    row: dict[str, Any],
    change_id: int | None = None,
    ts_ms: int | None = None,
) -> ChangeEvent:
    key = key_event(table, key_of_row(table, row))
    settings = table.settings
    try:
        after = row_to_json(row, decimals=settings.decimals, binary=settings.binary)
    except UnconvertibleValue:
        after = refused_image(table, key, row)
    if table.related and REFUSED not in after:
        after = publishable(table, after)
    return ChangeEvent(op, key, after, None, table.name, change_id, ts_ms)


def refused_image(table: CapturedTable, key: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """A row holding values JSON cannot (NaN, infinity): published without them and with the
    reason, which the consumer dead-letters, so the stream goes on and nothing is replaced."""
    settings = table.settings
    kept: dict[str, Any] = {}
    reasons = []
    for column, value in row.items():
        try:
            kept |= row_to_json({column: value}, decimals=settings.decimals, binary=settings.binary)
        except UnconvertibleValue as exc:
            reasons.append(f"column {column}: {exc}")
    reason = f"{table.name} {key}: {'; '.join(reasons)}"
    log.warning("refused to publish a row (dead-lettered by the consumer): %s", reason)
    return refused_row(kept, reason)


def publishable(table: CapturedTable, after: dict[str, Any]) -> dict[str, Any]:
    """A composed image, or a refusal when it breaks a limit (the consumer dead-letters it).

    Refusing here keeps Kafka records small: a parent with a million children
    is published as its row and the reason, not as a million rows.
    """
    children = after.get(CHILDREN) or {}
    parent = {k: v for k, v in after.items() if k not in (CHILDREN, LOOKUPS)}
    for child in table.settings.children:
        count = len(children.get(child.field) or ())
        if count > child.max_children:
            return refused_row(parent, too_many(child, count))
    size = len(dumps(after))
    if size > table.settings.max_document_bytes:
        return refused_row(parent, too_large(table.settings, size))
    return after


def delete_event(
    table: CapturedTable, key_values: Sequence[Any], change_id: int | None, ts_ms: int | None
) -> ChangeEvent:
    return ChangeEvent("d", key_event(table, key_values), None, None, table.name, change_id, ts_ms)


def truncate_event(table: CapturedTable, change_id: int, ts_ms: int | None) -> ChangeEvent:
    """The table was truncated: a truncate event, ordered by its change id like any other."""
    return ChangeEvent("t", {}, None, None, table.name, change_id, ts_ms)


def key_event(table: CapturedTable, values: Sequence[Any]) -> dict[str, Any]:
    """``{"ID": 42}``: the configured key names, in primary-key order."""
    return {
        name: to_json_value(value, decimals=table.settings.decimals, binary="base64")
        for name, value in zip(table.settings.primary_key, values, strict=True)
    }
