"""Backpressure decisions (pure): when to send more and which partitions to pause."""

from __future__ import annotations

from collections.abc import Collection

from cdc_sync.config import ConsumerSettings
from cdc_sync.kafka.types import Partition


def can_send(tasks_in_flight: int, bytes_in_flight: int, limits: ConsumerSettings) -> bool:
    """Another batch may be enqueued while both in-flight bounds have room."""
    return (
        tasks_in_flight < limits.max_tasks_in_flight and bytes_in_flight < limits.max_buffered_bytes
    )


def partitions_to_pause(
    assigned: Collection[Partition],
    waiting: Collection[Partition],
    buffered_bytes: int,
    limits: ConsumerSettings,
) -> set[Partition]:
    """Pause partitions whose batches wait to be sent; all of them when the buffer is full."""
    if buffered_bytes >= limits.max_buffered_bytes:
        return set(assigned)
    return {p for p in waiting if p in assigned}
