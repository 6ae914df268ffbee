"""Live counters of the consumer, read by status and metrics endpoints."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ConsumerStats:
    started_at: float = field(default_factory=time.time)
    received: int = 0
    applied: int = 0
    """Documents added or updated (after compaction)."""
    deleted: int = 0
    dead_lettered: int = 0
    skipped: int = 0
    """Records that change no row (heartbeats, transaction metadata, …): counted, not applied."""
    retries: int = 0
    in_flight_tasks: int = 0
    buffered_bytes: int = 0
    paused_partitions: int = 0
    ready: bool = False
    """In the group (an assignment arrived, even an empty one) and not shutting down."""
    last_error: str | None = None
    lag: dict[str, int] = field(default_factory=dict)
    """Per partition (``topic[n]``): end offset minus the committed offset."""
    first_offsets: dict[str, int] = field(default_factory=dict)
    """The first offset received per partition in this process (where it resumed)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
