"""Row image → Meilisearch document operation, per table config (SPEC §5).

Shared by the consumer and bootstrap so both write identical documents: the row's
fields (`documents.fields`), its document id, and for a composed table its related
rows (`documents.compose`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdc_sync.config import TableSettings
from cdc_sync.documents.compose import add_related
from cdc_sync.documents.fields import (
    REFUSED,
    MappingError,
    Plan,
    key_of,
    key_values,
    mapped_fields,
    plan_of,
    soft_deleted,
)
from cdc_sync.documents.ids import document_id
from cdc_sync.events.model import ChangeEvent


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


def document_for_row(table: TableSettings, row: dict[str, Any]) -> DocumentOp:
    """Map one row image (column → value) to the operation that indexes it."""
    return _document(table, plan_of(table, row), row)


def _document(table: TableSettings, plan: Plan, row: dict[str, Any]) -> DocumentOp:
    doc_id = document_id(key_values(plan, row))
    if soft_deleted(table, plan, row):
        return Delete(doc_id)
    if plan.refused:
        raise MappingError(str(row[REFUSED]))
    document, partial = mapped_fields(table, plan, row)
    document[table.id_field] = doc_id
    if table.composed:
        add_related(table, row, document)
    return Upsert(doc_id, document, partial)


def operation_for_row(table: TableSettings, row: dict[str, Any]) -> DocumentOp | None:
    """As `operation_for_event` for an upsert's row image, None when the row lacks a key
    column (then the event's key is needed)."""
    plan = plan_of(table, row)
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
    plan = plan_of(table, row)
    if not plan.key_complete:
        row = {**event.key, **row}
        plan = plan_of(table, row)
    return _document(table, plan, row)
