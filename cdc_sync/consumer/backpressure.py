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
DRAINING_TASK_POLL_S = 0.05
MAX_TASK_POLL_S = 0.2


def task_poll_interval(
    previous: float, light: bool, finished: int, draining: bool = False
) -> float:
    """How long until task status is asked for again.

    At light traffic (few tasks in flight) or right after tasks finished: soon,
    so offsets are committed and room is made at once. Otherwise the interval
    doubles while polls find nothing finished: Meilisearch is working through a
    deep queue, and every poll costs CPU that indexing needs. While everything
    read is sent (`draining`: the end of those tasks is all there is to wait
    for) it doubles up to DRAINING_TASK_POLL_S only.
    """
    if light or finished:
        return LIGHT_TASK_POLL_S
    ceiling = DRAINING_TASK_POLL_S if draining else MAX_TASK_POLL_S
    return min(max(previous, LIGHT_TASK_POLL_S) * 2, ceiling)


BACKLOG_HOLD_S = 1.0
"""The longest a batch waits to fill from a backlog (a fetch that stalls sends it anyway)."""


def waits_to_fill(behind: int, room: int, paused: bool, age_s: float, sink_busy: bool) -> bool:
    """Whether a partly filled batch waits for more records instead of going now.

    It waits while its partition has at least `room` more records in Kafka (a
    backlog: the batch will be full within a fetch or two) and Meilisearch has
    tasks of ours to work on meanwhile (`sink_busy`; it is never left idle for
    this), unless the partition is paused (nothing more arrives) or the batch
    waited too long. Meilisearch indexes every enqueued task of an index in one
    batch, and each batch costs it a share of work of its own; catching up in
    full tasks makes its batches fewer and larger. Without a backlog (light
    traffic) nothing waits.
    """
    return sink_busy and not paused and behind >= room and age_s < BACKLOG_HOLD_S
