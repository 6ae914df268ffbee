"""Every path a column's type decides, run on one fetched row of a reflected table.

A row the database returned (values as the driver and SQLAlchemy give them)
goes each way cdc-sync carries it, and the tests compare the ends:

- the stream: the relay's event (`row_event`), encoded for Kafka, decoded and
  mapped by the consumer (both its fast path and the general decoder);
- bootstrap and verify: the same row mapped from database values, as
  `SourceReader` reads it;
- the delete sweep: the document id turned back into a key (`typed_key`) and
  matched with the key of the row read back (`match_key`);
- the change log: the key as the trigger's JSON spells it, parsed and bound
  back (`key_values`), matched with the row read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Table

from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import (
    DocumentOp,
    document_for_row,
    operation_for_event,
    operation_for_row,
)
from cdc_sync.events.decode import decode_record, relay_row
from cdc_sync.events.encode import encode
from cdc_sync.source.changelog import parse_pk
from cdc_sync.source.images import IN_FILTER, KeyTuple, match_key, row_event, split_row
from cdc_sync.source.schema import CapturedTable
from cdc_sync.source.sweep import typed_key
from cdc_sync.source.zone import localize, naive_times

NOW_MS = 1_700_000_000_000


def captured(table: Table, spelling: Mapping[str, str], **settings: Any) -> CapturedTable:
    """`table` as reflection leaves it for cdc-sync; `spelling`: column name → database name."""
    keys = list(table.primary_key.columns)
    config = TableSettings(
        name=str(spelling.get(table.name, table.name)),
        primary_key=[spelling[c.name] for c in keys],
        **settings,
    )
    names = {c.name: spelling[c.name] for c in table.c}
    local = naive_times(table, skip=[k.name for k in keys])
    return CapturedTable(config, table, keys, names, local_times=frozenset(names[c] for c in local))


def relay_image(table: CapturedTable, values: Mapping[Column[Any], Any]) -> dict[str, Any]:
    """The row as the relay holds it after reading it (`read_images`)."""
    row, _ = split_row(table, {**values, IN_FILTER: 1})
    return row


def stream_document(table: CapturedTable, values: Mapping[Column[Any], Any]) -> DocumentOp:
    """What the consumer writes for the relay's event of this row."""
    event = row_event(table, "c", relay_image(table, values), 7, NOW_MS)
    [(key, value), *_] = encode(event, NOW_MS)
    general = operation_for_event(table.settings, decode_record(key, value))
    found = relay_row(key, value)
    assert found is not None
    fast = operation_for_row(table.settings, found[0])
    assert fast is None or fast == general, (fast, general)
    return general


def bootstrap_document(table: CapturedTable, values: Mapping[Column[Any], Any]) -> DocumentOp:
    """What bootstrap (and verify) builds from the same row read in a chunk."""
    row = {c.name: v for c, v in values.items()}
    for column in table.table.c:
        if table.column_names[column.name] in table.local_times:
            row[column.name] = localize(row[column.name], table.zone)
    return document_for_row(table.settings, row)


def fetched_key(table: CapturedTable, values: Mapping[Column[Any], Any]) -> KeyTuple:
    """The key as `read_images` files the row it read back."""
    return match_key(values[c] for c in table.key_columns)


def swept_key(table: CapturedTable, doc_id: str) -> KeyTuple:
    """The key the delete sweep looks the document up by."""
    return match_key(typed_key(table, doc_id))


def logged_key(table: CapturedTable, pk: str) -> KeyTuple:
    """The key the relay looks a change-log row up by (the trigger wrote `pk`)."""
    return match_key(table.key_values(parse_pk(pk)))
