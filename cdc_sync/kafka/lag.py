"""A consumer group's lag on a set of topics, as Kafka's own tools count it, and what is pending.

``lag`` per partition is exactly what ``kafka-consumer-groups --describe`` shows:
end offset minus committed offset, and nothing (``-``) where the group has
committed nothing. A poller wants one more number: how many records the group
still has to apply. Where nothing is committed the consumer starts at the
earliest offset (``auto.offset.reset = earliest``), so every record still in
that partition is pending; ``pending`` counts them, and ``total`` sums it. A
group that never committed is therefore caught up only on empty topics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from cdc_sync.kafka.groups import GroupOffsets
from cdc_sync.kafka.types import Partition


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    """None when the group has committed nothing here."""
    end: int
    lag: int | None
    """End minus committed; None when nothing is committed (Kafka's tools show "-")."""
    pending: int
    """Records the group has yet to apply (from the log start when nothing is committed)."""

    @classmethod
    def of(cls, partition: Partition, committed: int | None, start: int, end: int) -> PartitionLag:
        lag = None if committed is None else max(end - committed, 0)
        return cls(
            partition.topic,
            partition.partition,
            committed,
            end,
            lag,
            max(end - start, 0) if lag is None else lag,
        )


@dataclass(frozen=True, slots=True)
class GroupLag:
    group: str
    partitions: list[PartitionLag]
    missing_topics: list[str]
    """Configured topics that do not exist (yet): nothing was published to them."""

    @property
    def total(self) -> int:
        return sum(p.pending for p in self.partitions)

    @property
    def uncommitted(self) -> int:
        """Partitions where the group has committed nothing."""
        return sum(1 for p in self.partitions if p.committed is None)

    def of_topic(self, topic: str) -> list[PartitionLag]:
        return [p for p in self.partitions if p.topic == topic]

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "total_lag": self.total,
            "uncommitted_partitions": self.uncommitted,
            "missing_topics": self.missing_topics,
            "partitions": [asdict(p) for p in self.partitions],
        }


def group_lag(offsets: GroupOffsets, group: str, topics: Iterable[str]) -> GroupLag:
    """Asks for metadata, the committed offsets and the log start and end offsets; joins nothing."""
    wanted = list(dict.fromkeys(topics))
    partitions = offsets.partitions(wanted)
    found = {p.topic for p in partitions}
    committed = offsets.committed(group, partitions) if partitions else {}
    starts = offsets.starts(partitions)
    ends = offsets.ends(partitions)
    return GroupLag(
        group,
        [PartitionLag.of(p, committed.get(p), starts[p], ends[p]) for p in sorted(partitions)],
        [t for t in wanted if t not in found],
    )
