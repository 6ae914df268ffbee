from __future__ import annotations

from cdc_sync.config import ConsumerSettings, TableSettings
from cdc_sync.consumer.partitions import Partitions
from cdc_sync.documents.mapping import Delete
from cdc_sync.kafka.types import Partition, Received

TABLE = TableSettings(name="T", primary_key=["ID"])
P0, P1 = Partition("t", 0), Partition("t", 1)
LIMITS = ConsumerSettings(batch_size=2)


def filled() -> Partitions:
    """Both partitions assigned, each with a held batch, an open one, a pause and a backlog."""
    partitions = Partitions()
    partitions.assign([P0, P1])
    for p in (P0, P1):
        for offset in range(3):
            partitions.trackers[p].received(offset)
            batch = partitions.open_batch(p, TABLE, 0.0)
            batch.add(offset, Delete(str(offset)))
            partitions.hold_if_full(batch, LIMITS)
        partitions.backlog.append(Received(p, 3, None, None))
    partitions.paused = {P0, P1}
    return partitions


def test_forget_drops_everything_of_the_revoked_partitions_only() -> None:
    partitions = filled()
    partitions.forget([P0])
    assert set(partitions.trackers) == {P1} and partitions.paused == {P1}
    assert set(partitions.open) == {P1} and partitions.waiting() == {P1}
    assert [r.partition for r in partitions.backlog] == [P1]
    assert [b.offsets for b in partitions.queued(P1)] == [[0, 1], [2]]


def test_reset_starts_the_partition_over_and_keeps_it_assigned() -> None:
    """Read again from an earlier offset: unsent batches and the backlog go, offsets restart."""
    partitions = filled()
    before = partitions.trackers[P0]
    partitions.reset(P0)
    assert partitions.trackers[P0] is not before and partitions.trackers[P0].last is None
    assert partitions.queued(P0) == [] and P0 not in partitions.waiting()
    assert [r.partition for r in partitions.backlog] == [P1]
    assert partitions.paused == {P0, P1}  # pausing is flow control's to decide


def test_done_offsets_of_a_forgotten_partition_are_ignored() -> None:
    partitions = filled()
    partitions.forget([P1])
    partitions.mark_done(P1, [0, 1, 2])  # a late dead-letter confirmation
    partitions.mark_done(P0, [0, 1])
    assert partitions.trackers[P0].committable() == 2
