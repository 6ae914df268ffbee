"""Per-partition batches with the last operation per document id (compaction).

Within a batch each document id keeps one entry, so deletes, replacements and
partial updates can be sent as separate Meilisearch tasks without reordering a
delete before a later upsert of the same id. Entries combine by the rule every
replay uses (`documents.compact.after`), here on serialised bodies. A truncate
clears what the batch held and is applied before its entries. The clock is
passed in, so the age limit is tested without waiting.
"""

from __future__ import annotations

import json
from array import array
from dataclasses import dataclass, field

from cdc_sync.config import ConsumerSettings, TableSettings
from cdc_sync.documents.compact import Kind, after
from cdc_sync.documents.mapping import Delete, DocumentOp, Upsert
from cdc_sync.documents.numbers import exact
from cdc_sync.documents.serialise import dumps
from cdc_sync.events.position import Position
from cdc_sync.kafka.types import Partition


@dataclass(slots=True)  # not frozen: a frozen instance is three times dearer to build, per record
class Entry:
    doc_id: str
    kind: Kind
    body: bytes | None
    """The serialised document (None for deletes)."""
    offset: int
    """The record this operation came from (re-read to dead-letter it if Meilisearch rejects it)."""

    @property
    def size(self) -> int:
        """Bytes held for it: the body or id, and the objects around them."""
        return ENTRY_OVERHEAD + (len(self.body) if self.body is not None else len(self.doc_id))


ENTRY_OVERHEAD = 256
"""Memory of an entry besides its body: the entry, its id, its slot in the batch, its offset."""


def merge(previous: Entry | None, op: DocumentOp, offset: int) -> Entry:
    """The entry equivalent to applying `previous` and then `op`.

    A delete or full image replaces whatever came before; a partial update combines
    with it by `after` (only then is the earlier body read back)."""
    if isinstance(op, Delete):
        return Entry(op.doc_id, "delete", None, offset)
    if not op.partial or previous is None:
        return Entry(op.doc_id, "update" if op.partial else "replace", dumps(op.document), offset)
    kind, merges = after(previous.kind, "update")
    if not merges:
        return Entry(op.doc_id, kind, dumps(op.document), offset)
    assert previous.body is not None
    earlier = {
        k: exact(v) if v.__class__ is float else v for k, v in json.loads(previous.body).items()
    }
    merged = {**earlier, **op.document}
    return Entry(op.doc_id, kind, dumps(merged), offset)


@dataclass(slots=True)
class PartitionBatch:
    partition: Partition
    table: TableSettings
    created_at: float
    entries: dict[str, Entry] = field(default_factory=dict)
    offsets: list[int] = field(default_factory=list)
    truncate: bool = False
    truncate_at: Position | None = None
    """The truncate's source position (its barrier); None without one or without a truncate."""
    bytes: int = 0
    source_ts: array[int] = field(default_factory=lambda: array("q"))
    """Source times (epoch ms) of the records that carry one, for change → searchable latency."""

    @property
    def index_uid(self) -> str:
        return self.table.index_uid

    def add(self, offset: int, op: DocumentOp | None, source_ts: int | None = None) -> None:
        """Add a record's operation; None means it changes nothing but its offset counts."""
        self.offsets.append(offset)
        if source_ts is not None:
            self.source_ts.append(source_ts)
        if op is None:
            return
        previous = self.entries.pop(op.doc_id, None)
        if previous is not None:
            self.bytes -= previous.size
        entry = merge(previous, op, offset)
        self.entries[op.doc_id] = entry
        self.bytes += entry.size

    def add_truncate(self, offset: int, position: Position | None = None) -> None:
        self.offsets.append(offset)
        self.entries.clear()
        self.bytes = 0
        self.truncate = True
        self.truncate_at = position

    def is_full(self, limits: ConsumerSettings) -> bool:
        return len(self.offsets) >= limits.batch_size or self.bytes >= limits.batch_bytes

    def is_due(self, now: float, limits: ConsumerSettings) -> bool:
        if not self.offsets:
            return False
        return self.is_full(limits) or (now - self.created_at) * 1000 >= limits.linger_ms

    def by_kind(self) -> dict[Kind, list[Entry]]:
        groups: dict[Kind, list[Entry]] = {"delete": [], "replace": [], "update": []}
        for entry in self.entries.values():
            groups[entry.kind].append(entry)
        return groups


__all__ = ["Delete", "Entry", "Kind", "PartitionBatch", "Upsert", "dumps", "merge"]
