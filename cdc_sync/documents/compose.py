"""Documents built from several tables (SPEC §3.1): parent row + child rows + lookup rows.

A composed row image is the parent's row with three extra keys, the same
whether the relay published it (JSON values) or bootstrap and verify read it
(database values), so every path maps it with the same code:

- ``__cdc_children``: ``{field: [child row, ...]}`` in the configured order;
- ``__cdc_lookups``: ``{label: lookup row or None}``, the label being
  ``LOOKUP.PARENT_COLUMN…`` (`LookupSettings.label`);
- ``__cdc_refused``: the reason the relay refused to publish the related rows
  (too many children, too large); the document is dead-lettered with it (any
  table's row may carry it: `mapping.REFUSED`).

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import InvalidOperation
from typing import Any

from cdc_sync.config import ChildSettings, LookupSettings, TableSettings
from cdc_sync.documents.mapping import REFUSED, MappingError, convert, dumps, fields_of
from cdc_sync.events.values import DROP, UnconvertibleValue

CHILDREN = "__cdc_children"
LOOKUPS = "__cdc_lookups"

Row = dict[str, Any]

_CHILD_TABLES: dict[tuple[int, int], tuple[TableSettings, TableSettings]] = {}


def composed_row(
    parent: Row,
    children: Mapping[str, Sequence[Row]],
    lookups: Mapping[str, Row | None],
) -> Row:
    """The parent's row image with its related rows attached."""
    return {
        **parent,
        CHILDREN: {name: list(rows) for name, rows in children.items()},
        LOOKUPS: dict(lookups),
    }


def refused_row(parent: Row, reason: str) -> Row:
    """The parent's row image that tells the consumer to dead-letter it, with the reason."""
    return {**parent, REFUSED: reason}


def too_many(child: ChildSettings, count: int) -> str:
    return (
        f"{child.qualified_name}: {count} rows for this parent's {child.field!r}, "
        f"more than max_children = {child.max_children}"
    )


def too_large(table: TableSettings, size: int) -> str:
    return (
        f"document of {size} bytes is larger than max_document_bytes = "
        f"{table.max_document_bytes} ({table.qualified_name})"
    )


def _child_table(table: TableSettings, position: int, child: ChildSettings) -> TableSettings:
    """The child as a table config, so its rows map with the same (cached) plans as tables."""
    cached = _CHILD_TABLES.get((id(table), position))
    if cached is not None and cached[0] is table:
        return cached[1]
    as_table = TableSettings.model_validate(
        {
            "name": child.name,
            "primary_key": child.primary_key,
            "fields": child.fields,
            "decimals": table.decimals,
            "binary": table.binary,
        }
    )
    _CHILD_TABLES[(id(table), position)] = (table, as_table)
    return as_table


def _lookup_fields(table: TableSettings, lookup: LookupSettings, row: Row | None) -> Row:
    specs = lookup.field_specs()
    if row is None:
        return {spec.name: None for spec in specs.values()}
    by_upper = {name.upper(): name for name in row}
    out: Row = {}
    for column, spec in specs.items():
        name = column if column in row else by_upper.get(column.upper())
        value = row[name] if name is not None else None
        try:
            converted = convert(value, spec, table)
        except (UnconvertibleValue, ValueError, TypeError, InvalidOperation) as exc:
            raise MappingError(f"{lookup.qualified_name}.{column} ({spec.type}): {exc}") from None
        out[spec.name] = None if converted is DROP else converted
    return out


def add_related(table: TableSettings, row: Row, document: Row) -> None:
    """Add the children's arrays and the lookups' fields; raise MappingError past a limit."""
    refused = row.get(REFUSED)
    if refused:
        raise MappingError(str(refused))
    children = row.get(CHILDREN) or {}
    for position, child in enumerate(table.children):
        rows = children.get(child.field) or []
        if len(rows) > child.max_children:
            raise MappingError(too_many(child, len(rows)))
        as_table = _child_table(table, position, child)
        try:
            document[child.field] = [fields_of(as_table, r) for r in rows]
        except MappingError as exc:
            raise MappingError(f"{child.qualified_name}: {exc}") from None
    lookups = row.get(LOOKUPS) or {}
    for lookup in table.lookups:
        document.update(_lookup_fields(table, lookup, lookups.get(lookup.label)))
    size = len(dumps(document))
    if size > table.max_document_bytes:
        raise MappingError(too_large(table, size))
