"""Batches sent to Meilisearch and the tasks they became (pure bookkeeping).

A flight is one sent batch; its parts are Meilisearch tasks (deletes, replaces,
partial updates, or a truncate). A failed part is split in halves and resent
until the rejected documents are isolated. Resending must never move an older
image over a newer one, so ids that a later flight of the same partition has
already sent are dropped first (`superseded`).
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from cdc_sync.consumer.batch import Entry, Kind, PartitionBatch

PartKind = Kind | Literal["truncate"]
_seq = itertools.count()


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record whose document Meilisearch rejected: to be dead-lettered with the reason."""

    offset: int
    code: str
    reason: str


@dataclass(eq=False, slots=True)
class Part:
    kind: PartKind
    entries: list[Entry]
    task_uid: int | None = None
    resends: int = 0
    """How often these documents were already resent unchanged after a rejection."""

    @property
    def bytes(self) -> int:
        return sum(e.size for e in self.entries)


@dataclass(eq=False, slots=True)
class Flight:
    batch: PartitionBatch
    seq: int = field(default_factory=lambda: next(_seq))
    open_parts: list[Part] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    sent: bool = False
    abandoned: bool = False
    finished_ms: float | None = None
    """When Meilisearch finished its last task (epoch ms, Meilisearch's clock)."""

    @property
    def done(self) -> bool:
        return self.sent and not self.open_parts

    @property
    def bytes(self) -> int:
        return self.batch.bytes

    def parts(self) -> list[Part]:
        """The tasks this batch needs, in the order they must be enqueued."""
        out = [Part("truncate", [])] if self.batch.truncate else []
        for kind, entries in self.batch.by_kind().items():
            if entries:
                out.append(Part(kind, entries))
        return out


def superseded(flights: deque[Flight], flight: Flight) -> set[str] | None:
    """Ids sent by later flights of the same partition; None means all (a later truncate)."""
    ids: set[str] = set()
    later = False
    for other in flights:
        if other is flight:
            later = True
        elif later and other.sent:
            if other.batch.truncate:
                return None
            ids.update(other.batch.entries)
    return ids


def without_superseded(entries: list[Entry], ids: set[str] | None) -> list[Entry]:
    if ids is None:
        return []
    return [e for e in entries if e.doc_id not in ids]


def halves(entries: list[Entry]) -> list[list[Entry]]:
    middle = len(entries) // 2
    return [entries[:middle], entries[middle:]]
