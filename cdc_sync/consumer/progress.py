"""How far the consumer got: the end offsets it catches up to (`consume --until-caught-up`),
and the lag per partition and table that status and metrics show."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

from cdc_sync import metrics
from cdc_sync.config import TableSettings
from cdc_sync.consumer.interfaces import GroupConsumer
from cdc_sync.consumer.offsets import OffsetTracker
from cdc_sync.consumer.stats import ConsumerStats
from cdc_sync.errors import TransientError
from cdc_sync.kafka.types import Partition

log = logging.getLogger(__name__)

CAUGHT_UP_POLL_S = 0.1
LAG_INTERVAL_S = 5.0

Trackers = dict[Partition, OffsetTracker]


class CatchUp:
    """The end offsets seen at start; reached once the group's committed offsets are there."""

    def __init__(self, targets: dict[Partition, int]) -> None:
        self.targets = targets
        self._asked_at = -math.inf

    @classmethod
    def to_end_offsets(cls, kafka: GroupConsumer, topics: Iterable[str]) -> CatchUp:
        marks = kafka.watermarks(kafka.partitions_of(topics))
        return cls({p: high for p, (low, high) in marks.items() if high > low})

    def reached(self, kafka: GroupConsumer, trackers: Trackers, now: float) -> bool:
        if now - self._asked_at < CAUGHT_UP_POLL_S:
            return False
        if not self.targets:
            return True
        for partition, end in self.targets.items():  # ours first: no round trip while behind
            tracker = trackers.get(partition)
            # nothing committed in this process: only the broker knows where the group is
            if tracker is not None and (tracker.outstanding or (tracker.committed or end) < end):
                return False
        self._asked_at = now
        try:
            committed = kafka.committed(self.targets)
        except TransientError as exc:
            log.warning("%s", exc)
            return False
        return all((committed.get(p) or 0) >= end for p, end in self.targets.items())


class LagReport:
    """End offset (as last fetched) minus the committed offset, every LAG_INTERVAL_S."""

    def __init__(self, tables: dict[str, TableSettings], stats: ConsumerStats) -> None:
        self.tables = tables
        """By topic."""
        self.stats = stats
        self._reported_at = -math.inf

    def update(self, kafka: GroupConsumer, trackers: Trackers, now: float) -> None:
        if now - self._reported_at < LAG_INTERVAL_S or not trackers:
            return
        self._reported_at = now
        per_table: dict[str, int] = {}
        for partition, tracker in trackers.items():
            high = kafka.fetched_high(partition)
            position = tracker.committed
            if high is not None and position is not None:
                lag = max(high - position, 0)
                self.stats.lag[str(partition)] = lag
                metrics.partition_lag(partition.topic, partition.partition, lag)
                table = self.tables[partition.topic].qualified_name
                per_table[table] = per_table.get(table, 0) + lag
        for table, lag in per_table.items():
            metrics.table_lag(table, lag)
