"""Where the consumers are on a table's topic, read from Kafka without joining the group.

The verifier backs off while the group's lag on the topic is above `max_lag`, and looks
at a suspect again only once the group's committed offsets have passed the topic's end
as it was right after the pass read the suspect (committed means applied, SPEC §6).
"""

from __future__ import annotations

import threading
import time

from cdc_sync.kafka.groups import GroupOffsets
from cdc_sync.kafka.lag import group_lag
from cdc_sync.kafka.types import Partition

Ends = dict[Partition, int]
POLL_S = 0.2


class StreamWatch:
    def __init__(self, offsets: GroupOffsets, group: str, topic: str) -> None:
        self.offsets, self.group, self.topic = offsets, group, topic

    def lag(self) -> int:
        """Records the group has yet to apply on the topic (`cdc-sync lag`'s pending)."""
        return group_lag(self.offsets, self.group, [self.topic]).total

    def ends(self) -> Ends:
        return self.offsets.ends(self.offsets.partitions([self.topic]))

    def passed(self, ends: Ends) -> bool:
        """The group has applied everything below `ends` (nothing committed: the log start)."""
        if not ends:
            return True
        partitions = list(ends)
        committed = self.offsets.committed(self.group, partitions)
        starts = self.offsets.starts(partitions)
        return all(max(committed.get(p) or 0, starts[p]) >= end for p, end in ends.items())

    def wait_passed(self, ends: Ends, stopping: threading.Event, timeout_s: float) -> bool:
        """Wait until `passed(ends)`; False when stopped or after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while not self.passed(ends):
            if stopping.wait(POLL_S) or time.monotonic() > deadline:
                return False
        return True
