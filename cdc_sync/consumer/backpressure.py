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


LIGHT_TASK_POLL_S = 0.01
MAX_TASK_POLL_S = 0.2


def task_poll_interval(previous: float, light: bool, finished: int) -> float:
    """How long until task status is asked for again.

    At light traffic (few tasks in flight) or right after tasks finished: soon,
    so offsets are committed and room is made at once. Otherwise the interval
    doubles while polls find nothing finished: Meilisearch is working through a
    deep queue, and every poll costs CPU that indexing needs.
    """
    if light or finished:
        return LIGHT_TASK_POLL_S
    return min(max(previous, LIGHT_TASK_POLL_S) * 2, MAX_TASK_POLL_S)
