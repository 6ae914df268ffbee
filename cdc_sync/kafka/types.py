"""Kafka's vocabulary as our own value types (no Kafka client types leave ``cdc_sync.kafka``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Partition:
    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]"


@dataclass(slots=True)  # not frozen: a frozen instance is three times dearer to build, per record
class Received:
    """One Kafka record as fetched: enough to apply it or dead-letter it (never mutated)."""

    partition: Partition
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None = None

    @property
    def size(self) -> int:
        return len(self.key or b"") + len(self.value or b"")
