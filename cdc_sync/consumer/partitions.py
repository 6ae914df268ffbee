"""The consumer's per-partition state in one place: offsets, batches, pauses, the backlog.

A partition assigned gets a fresh offset tracker. One revoked (or every one, when
the member was fenced) is forgotten whole (`forget`); one read again from an
earlier offset starts over (`reset`). Either way nothing read and not yet sent
survives, so it can never be sent out of order or committed by mistake.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from cdc_sync.config import ConsumerSettings, TableSettings
from cdc_sync.consumer.batch import PartitionBatch
from cdc_sync.consumer.offsets import OffsetTracker
from cdc_sync.kafka.types import Partition, Received


class Partitions:
    def __init__(self) -> None:
        self.trackers: dict[Partition, OffsetTracker] = {}
        """The assigned partitions and their offsets."""
        self.open: dict[Partition, PartitionBatch] = {}
        """The batch each partition is filling."""
        self.held: dict[Partition, deque[PartitionBatch]] = {}
        """Full batches waiting to be sent, in order."""
        self.paused: set[Partition] = set()
        self.backlog: list[Received] = []
        """Records fetched but not taken in yet (fetched while waiting), in fetch order."""

    def assign(self, partitions: Iterable[Partition]) -> None:
        for partition in partitions:
            self.trackers[partition] = OffsetTracker()

    def forget(self, partitions: Iterable[Partition]) -> None:
        """Revoked: nothing of theirs is kept."""
        gone = set(partitions)
        for partition in gone:
            self.trackers.pop(partition, None)
            self.open.pop(partition, None)
            self.held.pop(partition, None)
        self.paused -= gone
        self.backlog = [r for r in self.backlog if r.partition not in gone]

    def drop_unsent(self, partition: Partition) -> None:
        """What was read of the partition and not sent goes (it is to be read again)."""
        self.open.pop(partition, None)
        self.held.pop(partition, None)
        self.backlog = [r for r in self.backlog if r.partition != partition]

    def reset(self, partition: Partition) -> None:
        """Read again from an earlier offset: it starts over, from a new offset tracker."""
        self.drop_unsent(partition)
        self.trackers[partition] = OffsetTracker()

    # -- batches

    def open_batch(self, partition: Partition, table: TableSettings, now: float) -> PartitionBatch:
        batch = self.open.get(partition)
        if batch is None:
            batch = self.open[partition] = PartitionBatch(partition, table, now)
        return batch

    def hold_if_full(self, batch: PartitionBatch, limits: ConsumerSettings) -> None:
        if batch.is_full(limits):
            self.held.setdefault(batch.partition, deque()).append(self.open.pop(batch.partition))

    def unsent(self) -> bool:
        """Some batch is open or held."""
        return bool(self.open) or any(self.held.values())

    def waiting(self) -> set[Partition]:
        """Partitions with full batches waiting to be sent."""
        return {p for p, queue in self.held.items() if queue}

    def unsent_bytes(self) -> int:
        held = sum(b.bytes for queue in self.held.values() for b in queue)
        return held + sum(b.bytes for b in self.open.values())

    def queued(self, partition: Partition) -> list[PartitionBatch]:
        """The partition's unsent batches in order: held ones, then the open one."""
        batch = self.open.get(partition)
        return [*self.held.get(partition, ()), *([batch] if batch is not None else [])]

    def mark_done(self, partition: Partition, offsets: list[int]) -> None:
        tracker = self.trackers.get(partition)
        if tracker is not None:
            tracker.done(offsets)
