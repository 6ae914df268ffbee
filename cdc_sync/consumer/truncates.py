"""Truncates in order across partitions: the consumer's side of the barrier.

A truncate record sits on one partition; the table's other events on all of
them. Each event names its place in the source's order (``events/position.py``),
so a truncate at position T means: documents whose last event is before T go,
documents from events after T stay. The protocol (argued in docs/truncates.md):

1. The consumer that reads the truncate *announces* T in the state store.
2. Every consumer, for each partition of that table it owns, *aligns* it: drops
   the batches it has not sent, finds the first offset whose event is at or
   after T (a binary search over the partition, positions grow with offsets),
   reads the partition again from there (committing that offset first if it
   lies before the committed one), and acks. From then on its events before T
   are dropped, and the table's writes are held.
3. Once every partition is acked, the truncate's owner enqueues the clear-all
   task and marks the barrier *enqueued*; Meilisearch runs an index's tasks in
   order, so everything sent after runs after it. The held writes go on.

This module is the consumer's side of it (`TruncateOrder`); the view of the barriers
is in `consumer/barriers.py`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from cdc_sync.config import TableSettings
from cdc_sync.consumer.barriers import Barriers
from cdc_sync.consumer.batch import PartitionBatch
from cdc_sync.consumer.interfaces import GroupConsumer, RecordReads, TruncateStore
from cdc_sync.consumer.partitions import Partitions
from cdc_sync.consumer.writer import Writer
from cdc_sync.errors import TransientError
from cdc_sync.events.decode import AvroDecoder, DecodeError, decode_record
from cdc_sync.events.model import ChangeEvent
from cdc_sync.events.position import Position, position_of
from cdc_sync.kafka.types import Partition
from cdc_sync.state.store import FENCE_POLL_S
from cdc_sync.state.truncates import Barrier

log = logging.getLogger(__name__)

DONE = Position("done", ())
"""A truncate a barrier already covers (a later one, or this one already enqueued)."""

Probe = Callable[[int, int], Position | None]
"""(offset, end) → the position of the first positioned event in [offset, end), if any."""


def first_offset_at_or_after(target: Position, low: int, end: int, probe: Probe) -> int:
    """The smallest offset in [low, end] from which every positioned event is at or after
    `target` (positions grow with offsets within a partition): a binary search."""
    while low < end:
        middle = (low + end) // 2
        found = probe(middle, end)
        if found is None or not found.comparable(target) or found >= target:
            end = middle
        else:
            low = middle + 1
    return low


def rewind_offset(
    reads: RecordReads,
    partition: Partition,
    target: Position,
    low: int,
    end: int,
    avro: AvroDecoder | None,
) -> int:
    """The first offset of the partition (in [low, end]) whose events are at or after `target`."""
    if low >= end:
        return end
    reader = reads.reader(partition)

    def probe(offset: int, until: int) -> Position | None:
        while offset < until:
            records = reader.read(offset, until)
            for record in records:
                try:
                    found = position_of(decode_record(record.key, record.value, avro=avro))
                except DecodeError:
                    found = None
                if found is not None and found.comparable(target):
                    return found
            if not records:
                return None
            offset = records[-1].offset + 1
        return None

    try:
        return first_offset_at_or_after(target, low, end, probe)
    finally:
        reader.close()


class TruncateOrder:
    """Announces the truncates this consumer reads, aligns the partitions it owns, and
    decides which batches may go while a barrier stands."""

    def __init__(
        self,
        store: TruncateStore,
        tables: dict[str, TableSettings],
        partitions: Partitions,
        writer: Writer,
        reads: RecordReads,
        avro: AvroDecoder | None,
    ) -> None:
        self.barriers = Barriers(store)
        self.tables = tables
        """By topic."""
        self.partitions = partitions
        self.writer = writer
        self.reads = reads
        self.avro = avro
        self._refreshed_at = -math.inf

    @property
    def standing(self) -> bool:
        """Some barrier is known (no truncate ever: records take the fast path)."""
        return bool(self.barriers.view)

    def announce(
        self, kafka: GroupConsumer, topic: str, table: TableSettings, event: ChangeEvent
    ) -> Position | None:
        """Announce a truncate read on the table's `topic`; its position, DONE when a barrier
        already covers it, or None when the event does not say where it stands (then it is
        ordered in its partition only)."""
        position = position_of(event)
        if position is None:
            log.warning(
                "truncate of %s without a source position: ordered within its partition only",
                table.qualified_name,
            )
            return None
        partitions = len(kafka.partitions_of([topic])) or 1
        barrier = self.barriers.announce(table.qualified_name, position, partitions)
        if barrier.position.comparable(position) and (
            barrier.position > position or barrier.status == "enqueued"
        ):
            return DONE  # a later truncate, or this one already enqueued (read again)
        if not barrier.aligned:  # not when read again after aligning
            log.info("truncate of %s at %s announced", table.qualified_name, position)
        return position

    def drops(self, table: TableSettings, partition: Partition, event: ChangeEvent) -> bool:
        """Whether a row event lies before its table's barrier (the truncate removed it)."""
        return (
            self.standing  # no truncate ever: no further cost per record
            and event.op != "t"
            and self.barriers.drops(table.qualified_name, partition, event)
        )

    def align_owned(self, kafka: GroupConsumer, now: float) -> None:
        """Every FENCE_POLL_S: read the barriers again and align the partitions we own."""
        if now - self._refreshed_at < FENCE_POLL_S:
            return
        self._refreshed_at = now
        self.barriers.refresh()
        owned = list(self.partitions.trackers)
        for partition, barrier in self.barriers.to_align(owned, self._table_of):
            try:
                self._align(kafka, partition, barrier)
            except TransientError as exc:
                log.warning("aligning %s to a truncate: %s (will try again)", partition, exc)

    def _table_of(self, topic: str) -> str:
        return self.tables[topic].qualified_name

    def _align(self, kafka: GroupConsumer, partition: Partition, barrier: Barrier) -> None:
        """Read the partition again from whichever comes first: its first event at or after
        the barrier, or its first record not yet done (unsent or in flight); then ack."""
        tracker = self.partitions.trackers[partition]
        committed = tracker.committed
        if committed is None:
            committed = kafka.committed([partition]).get(partition)
        low, _ = kafka.watermarks([partition])[partition]
        read_to = tracker.last + 1 if tracker.last is not None else (committed or low)
        start = rewind_offset(self.reads, partition, barrier.position, low, read_to, self.avro)
        pending = tracker.first_pending
        rewind = min(start, read_to if pending is None else pending)
        log.info(
            "aligning %s to the truncate at %s of %s: reading again from %d (had read to %d)",
            partition,
            barrier.position,
            barrier.table,
            rewind,
            read_to,
        )
        if rewind < read_to:
            self.partitions.drop_unsent(partition)
            self.writer.abandon([partition])  # their tasks are queued before the clear-all
            kafka.seek(partition, rewind)
            self.partitions.reset(partition)
            if committed is not None and rewind < committed:
                kafka.commit({partition: rewind})  # so a crash resumes there too
        self.barriers.aligned(partition, barrier)

    def allows(self, batch: PartitionBatch) -> bool:
        """Whether the batch may go now: no barrier holds its table, or it is safe either side
        of the clear-all — the truncate itself once every partition is aligned, what precedes
        it in its own partition, and batches of deletes only."""
        barrier = self.barriers.holds(batch.table.qualified_name)
        if barrier is None:
            return True
        if batch.truncate_at == barrier.position:
            return barrier.ready
        if not batch.truncate and all(e.kind == "delete" for e in batch.entries.values()):
            return True
        queued = self.partitions.queued(batch.partition)
        at = next((i for i, b in enumerate(queued) if b is batch), len(queued))
        return any(b.truncate_at == barrier.position for b in queued[at + 1 :])

    def sent(self, batch: PartitionBatch) -> None:
        """The batch's tasks are enqueued: a truncate's clear-all releases its table."""
        if batch.truncate_at is not None:
            self.barriers.enqueued(batch.table.qualified_name, batch.truncate_at)

    def forget(self, partitions: set[Partition]) -> None:
        """Partitions revoked: a later owner decides about them from the acks."""
        self.barriers.forget(partitions)
