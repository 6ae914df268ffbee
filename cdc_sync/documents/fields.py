"""A row image's columns → a document's fields, per table config (SPEC §5).

Rows of one shape (their column names, in order) share a cached `Plan`: which column
is which key part, field and soft-delete flag. Column names match case-insensitively
(Oracle upper-cases, PostgreSQL lower-cases); columns that differ only in case are kept
apart or refused (`documents.columns`). The whole document is built in `mapping`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import InvalidOperation
from typing import Any

from cdc_sync.config import FieldSpec, TableSettings
from cdc_sync.documents.columns import AmbiguousColumn, case_twins, resolve, twins_problem
from cdc_sync.documents.convert import convert
from cdc_sync.documents.keys import key_value, needs_decoding
from cdc_sync.documents.numbers import exact, reads_back
from cdc_sync.documents.objects import object_value
from cdc_sync.errors import TerminalError
from cdc_sync.events.placeholder import Placeholder, placeholder
from cdc_sync.events.values import DROP, EXACT_INTEGER, UnconvertibleValue, to_json_value


class MappingError(TerminalError):
    """A row that cannot become a document; it is dead-lettered with this reason."""

    code = "mapping_error"


_NONE_ONLY: frozenset[type] = frozenset({type(None)})
_TEXT: frozenset[type] = frozenset({type(None), str})
_AS_IS = {"auto": frozenset({type(None), str, bool, int, float}), "string": _TEXT}
_AS_IS |= {"datetime": _TEXT, "base64": _TEXT}
"""Value types `convert` returns unchanged, per field type (see `_kept`)."""
RESERVED_PREFIX = "__cdc_"
"""Row-image keys that carry a composed document's related rows, never columns."""
REFUSED = "__cdc_refused"
"""Row-image key of the reason the relay refused the row (`documents.compose.refused_row`):
the consumer dead-letters it with that reason."""


def _resolve(columns: tuple[str, ...], column: str) -> str | None:
    """The row's name for a configured column (`columns.resolve`), None when it has none."""
    try:
        return resolve(columns, column)
    except AmbiguousColumn as exc:
        raise MappingError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class Plan:
    """How rows of one shape (their column names, in order) map for one table."""

    key: tuple[tuple[str, str | None, FieldSpec | None], ...]
    """(configured key column, the row's name for it or None when missing, the field spec
    that decodes its values or None when they are used as they are)."""
    fields: tuple[tuple[str, FieldSpec, frozenset[type]], ...]
    """(the row's column name, its field spec, value types it keeps as they are), in order."""
    soft_delete: str | None
    key_complete: bool
    """Whether rows of this shape hold every key column."""
    key_names: frozenset[str]
    """The row's names of the key columns (a binary key is kept where binary values drop)."""
    refused: bool
    """Rows of this shape carry the relay's refusal (`REFUSED`)."""
    unavailable: Placeholder | None
    """Debezium's placeholder (Debezium capture only: our own capture never sends one)."""
    unavailable_text: frozenset[str]
    """Its text spellings (none without it), checked on the fast path."""


_PLANS: dict[tuple[int, tuple[str, ...]], tuple[TableSettings, Plan]] = {}
_MAX_PLANS = 4096


def plan_of(table: TableSettings, row: dict[str, Any]) -> Plan:
    """The cached plan: rows of a table nearly always share one shape."""
    columns = tuple(row)
    cached = _PLANS.get((id(table), columns))
    if cached is not None and cached[0] is table:  # the table is kept, so its id stays unique
        return cached[1]
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    fields = []
    specs = _specs(table, columns)
    for column, spec in specs.items():
        name = _resolve(columns, column)
        if name is not None:
            kept = _TEXT if spec.unit is not None else _AS_IS.get(spec.type, _NONE_ONLY)
            fields.append((name, spec, kept))
    soft = table.soft_delete
    key = tuple((c, _resolve(columns, c), _key_spec(specs, c)) for c in table.primary_key)
    debezium = table.capture == "debezium"
    unavailable = placeholder(table.unavailable_value_placeholder) if debezium else None
    plan = Plan(
        key=key,
        key_complete=all(name is not None for _, name, _ in key),
        key_names=frozenset(name for _, name, _ in key if name is not None),
        refused=REFUSED in columns,
        fields=tuple(fields),
        soft_delete=None if soft is None else _resolve(columns, soft.column),
        unavailable=unavailable,
        unavailable_text=frozenset() if unavailable is None else unavailable.spellings,
    )
    _PLANS[(id(table), columns)] = (table, plan)
    return plan


def _key_spec(specs: dict[str, FieldSpec], column: str) -> FieldSpec | None:
    wanted = column.upper()
    spec = next((s for c, s in specs.items() if c.upper() == wanted), None)
    return spec if needs_decoding(spec) else None


def key_values(plan: Plan, row: dict[str, Any]) -> list[Any]:
    values = []
    for column, name, spec in plan.key:
        if name is None:
            raise MappingError(f"primary-key column {column} is missing from the row")
        value = row[name]
        if spec is not None or value.__class__ in (dict, list):
            try:
                value = key_value(column, value, spec)
            except ValueError as exc:
                raise MappingError(str(exc)) from None
        values.append(value)
    return values


def key_of(table: TableSettings, row: dict[str, Any]) -> list[Any]:
    return key_values(plan_of(table, row), row)


def _specs(table: TableSettings, columns: tuple[str, ...]) -> dict[str, FieldSpec]:
    configured = table.field_specs()
    excluded = {c.upper() for c in table.exclude}
    if configured is None:
        kept = [
            c for c in columns if c.upper() not in excluded and not c.startswith(RESERVED_PREFIX)
        ]
        twins = case_twins(kept)
        if twins:  # they would become one field
            raise MappingError(twins_problem(twins[0], table.qualified_name))
        return {c: FieldSpec(name=c.lower()) for c in kept}
    specs = dict(configured)
    for column in table.primary_key:  # key columns always stay as fields
        if not any(c.upper() == column.upper() for c in specs):
            specs[column] = FieldSpec(name=column.lower())
    return specs


def _kept(kind: type, value: Any) -> bool:
    """Whether `convert` returns this value of an `_AS_IS` type (other than str) unchanged."""
    if kind is int:
        return bool(abs(value) <= EXACT_INTEGER)
    if kind is float:
        return math.isfinite(value) and reads_back(value)
    return True


def soft_deleted(table: TableSettings, plan: Plan, row: dict[str, Any]) -> bool:
    if table.soft_delete is None or plan.soft_delete is None:
        return False
    return table.soft_delete.matches(row[plan.soft_delete])


def is_soft_deleted(table: TableSettings, row: dict[str, Any]) -> bool:
    return soft_deleted(table, plan_of(table, row), row)


def fields_of(table: TableSettings, row: dict[str, Any]) -> dict[str, Any]:
    """The mapped fields of a row, without id or soft-delete handling (child rows)."""
    document, _ = mapped_fields(table, plan_of(table, row), row)
    return document


def mapped_fields(
    table: TableSettings, plan: Plan, row: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    document: dict[str, Any] = {}
    partial = False
    unavailable, unavailable_text = plan.unavailable, plan.unavailable_text
    for column, spec, as_is in plan.fields:
        value = row[column]
        kind = value.__class__
        # the common cases, without `convert` (strings, most of them, without a call)
        if kind in as_is and (value not in unavailable_text if kind is str else _kept(kind, value)):
            document[spec.name] = value
            continue
        if unavailable is not None and unavailable.matches(value):
            partial = True  # an unchanged LOB: the index keeps the field it has
            continue
        try:
            if kind is dict:
                value = object_value(column, spec.name, value, spec.type == "decimal")
            converted = convert(value, spec, table)
        except (UnconvertibleValue, ValueError, TypeError, InvalidOperation) as exc:
            raise MappingError(f"column {column} ({spec.type}): {exc}") from None
        if converted.__class__ is float:
            converted = exact(converted)  # spelled so that Meilisearch holds the same double
        if converted is not DROP:
            document[spec.name] = converted
        elif column in plan.key_names:  # as the event's key carries it (and the stream keeps it)
            document[spec.name] = to_json_value(value, binary="base64")
    return document, partial
