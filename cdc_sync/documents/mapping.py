"""Row image → Meilisearch document operation, per table config (SPEC §5).

Shared by the consumer and bootstrap so both write identical documents.
Column names match case-insensitively (Oracle upper-cases, PostgreSQL lower-cases); columns
that differ only in case are kept apart or refused (`documents.columns`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from cdc_sync.config import FieldSpec, TableSettings
from cdc_sync.documents.columns import AmbiguousColumn, case_twins, resolve, twins_problem
from cdc_sync.documents.keys import key_value, needs_decoding
from cdc_sync.documents.objects import object_value
from cdc_sync.errors import TerminalError
from cdc_sync.events.debezium import decimal_from
from cdc_sync.events.model import ChangeEvent
from cdc_sync.events.placeholder import Placeholder, placeholder
from cdc_sync.events.times import from_epoch
from cdc_sync.events.values import (
    DROP,
    EXACT_INTEGER,
    UnconvertibleValue,
    decimal_to_json,
    to_json_value,
)
from cdc_sync.sink.ids import document_id
from cdc_sync.sink.numbers import Exact, exact, reads_back, spelling


def _spelled(value: Any) -> orjson.Fragment:
    if isinstance(value, Exact):
        return orjson.Fragment(spelling(value).encode("ascii"))
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of documents, as sent to Meilisearch (`Exact` floats spelled for it).

    orjson's result keeps its whole working buffer (4 KiB for a small
    document); the copy holds only the bytes, which matters for the many
    documents a consumer holds in flight.
    """
    try:
        return bytes(memoryview(orjson.dumps(value, default=_spelled)))
    except TypeError:  # what orjson refuses (integers past 64 bits, …) the standard encoder decides
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class MappingError(TerminalError):
    """A row that cannot become a document; it is dead-lettered with this reason."""


@dataclass(slots=True)  # not frozen: a frozen instance is three times dearer to build
class Upsert:
    doc_id: str
    document: dict[str, Any]
    partial: bool = False
    """True when some columns were unavailable: merge instead of replace."""


@dataclass(slots=True)  # not frozen (as Upsert)
class Delete:
    doc_id: str


DocumentOp = Upsert | Delete
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
class _Plan:
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


_PLANS: dict[tuple[int, tuple[str, ...]], tuple[TableSettings, _Plan]] = {}
_MAX_PLANS = 4096


def _plan(table: TableSettings, row: dict[str, Any]) -> _Plan:
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
    plan = _Plan(
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


def _key_values(plan: _Plan, row: dict[str, Any]) -> list[Any]:
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
    return _key_values(_plan(table, row), row)


def _to_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError(f"{value!r} is not a date or timestamp")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _epoch(value: Any) -> int | float:
    seconds = _to_datetime(value).timestamp()
    return int(seconds) if seconds == int(seconds) else seconds


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "y", "yes", "true", "t"):
        return True
    if text in ("0", "n", "no", "false", "f"):
        return False
    raise ValueError(f"{value!r} is not a boolean")


def _integer(value: Any) -> int:
    number = Decimal(value) if isinstance(value, int | float) else Decimal(str(value).strip())
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{value!r} is not an integer (it would be rounded)")
    return int(number)


def convert(value: Any, spec: FieldSpec, table: TableSettings) -> Any:
    """Apply a field's configured conversion; None stays None."""
    if value is None:
        return None
    if spec.unit is not None and value.__class__ is int:  # an epoch number without its schema
        value = from_epoch(value, spec.unit)
    kind = spec.type
    if kind == "decimal":
        return decimal_to_json(decimal_from(value, spec.scale), table.decimals)
    if kind == "auto":
        return to_json_value(value, decimals=table.decimals, binary=table.binary)
    if kind == "string":
        if isinstance(value, Decimal):
            return format(value, "f")  # the exact digits, never an exponent
        return value if isinstance(value, str) else str(to_json_value(value, binary="base64"))
    if kind == "integer":
        return _integer(value)
    if kind == "float":
        return float(value)
    if kind == "boolean":
        return _boolean(value)
    if kind == "datetime":
        return _to_datetime(value).isoformat() if not isinstance(value, str) else value
    if kind == "epoch":
        return _epoch(value)
    if kind == "epoch_ms":
        return int(_to_datetime(value).timestamp() * 1000)
    if isinstance(value, str):  # base64 of text that already is base64
        return value
    return base64.b64encode(bytes(value)).decode("ascii")


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


def _soft_deleted(table: TableSettings, plan: _Plan, row: dict[str, Any]) -> bool:
    if table.soft_delete is None or plan.soft_delete is None:
        return False
    return table.soft_delete.matches(row[plan.soft_delete])


def is_soft_deleted(table: TableSettings, row: dict[str, Any]) -> bool:
    return _soft_deleted(table, _plan(table, row), row)


def document_for_row(table: TableSettings, row: dict[str, Any]) -> DocumentOp:
    """Map one row image (column → value) to the operation that indexes it."""
    return _document(table, _plan(table, row), row)


def _document(table: TableSettings, plan: _Plan, row: dict[str, Any]) -> DocumentOp:
    doc_id = document_id(_key_values(plan, row))
    if _soft_deleted(table, plan, row):
        return Delete(doc_id)
    if plan.refused:
        raise MappingError(str(row[REFUSED]))
    document, partial = _fields(table, plan, row)
    document[table.id_field] = doc_id
    if table.composed:
        from cdc_sync.documents.compose import add_related

        add_related(table, row, document)
    return Upsert(doc_id, document, partial)


def fields_of(table: TableSettings, row: dict[str, Any]) -> dict[str, Any]:
    """The mapped fields of a row, without id or soft-delete handling (child rows)."""
    document, _ = _fields(table, _plan(table, row), row)
    return document


def _fields(table: TableSettings, plan: _Plan, row: dict[str, Any]) -> tuple[dict[str, Any], bool]:
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


def operation_for_row(table: TableSettings, row: dict[str, Any]) -> DocumentOp | None:
    """As `operation_for_event` for an upsert's row image, None when the row lacks a key
    column (then the event's key is needed)."""
    plan = _plan(table, row)
    return _document(table, plan, row) if plan.key_complete else None


def _deleted_key(table: TableSettings, event: ChangeEvent) -> list[Any]:
    """The record's key; without one (a table without a primary key) the row image's."""
    if event.key:
        return key_of(table, event.key)
    try:
        return key_of(table, event.before or {})
    except MappingError as exc:
        raise MappingError(
            f"delete with no record key (a table without a primary key), and its before "
            f"image lacks the key: {exc} (on PostgreSQL such a table needs REPLICA IDENTITY FULL)"
        ) from None


def operation_for_event(table: TableSettings, event: ChangeEvent) -> DocumentOp:
    """Map a decoded change event: deletes by key, everything else by its row image."""
    if event.is_delete or event.after is None:
        return Delete(document_id(_deleted_key(table, event)))
    row = event.after
    plan = _plan(table, row)
    if not plan.key_complete:
        row = {**event.key, **row}
        plan = _plan(table, row)
    return _document(table, plan, row)
