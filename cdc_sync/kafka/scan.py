"""Reading a whole topic with headers, from given offsets to the end seen at the start.

Like ``reader`` it assigns partitions and never commits; it adds what the
dead-letter tools need: record headers and timestamps, and a stop after `limit`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, TopicPartition

from cdc_sync.config import KafkaSettings
from cdc_sync.errors import DependencyUnavailable


@dataclass(frozen=True, slots=True)
class HeaderedRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Extent:
    """Per partition: first stored offset and end offset."""

    low: dict[int, int]
    high: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.high[p] - self.low[p] for p in self.high)


def _consumer(kafka: KafkaSettings) -> Consumer:
    return Consumer(
        {
            **kafka.client_config(),
            # Required by the client; nothing is ever committed under it.
            "group.id": f"cdc-sync-scan-{uuid.uuid4().hex[:12]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
        }
    )


def _headers(raw: Any) -> dict[str, str]:
    pairs = raw.items() if isinstance(raw, dict) else raw or []
    return {
        k: v.decode("utf-8", "replace") if isinstance(v, bytes) else (v or "") for k, v in pairs
    }


class TopicScan:
    def __init__(self, kafka: KafkaSettings, topic: str, timeout_s: float = 30.0) -> None:
        self.kafka = kafka
        self.topic = topic
        self.timeout_s = timeout_s
        self._consumer = _consumer(kafka)

    def __enter__(self) -> TopicScan:
        return self

    def __exit__(self, *_: object) -> None:
        self._consumer.close()

    def extent(self) -> Extent:
        """Watermarks of every partition; raises DependencyUnavailable if the topic is missing."""
        try:
            metadata = self._consumer.list_topics(self.topic, timeout=self.timeout_s)
            described = metadata.topics.get(self.topic)
            if described is None or described.error is not None:
                raise DependencyUnavailable(f"kafka: topic {self.topic} does not exist")
            low, high = {}, {}
            for p in sorted(described.partitions):
                low[p], high[p] = self._consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p), timeout=self.timeout_s, cached=False
                )
            return Extent(low, high)
        except KafkaException as exc:
            raise DependencyUnavailable(f"kafka at {self.kafka.bootstrap_servers}: {exc}") from None

    def records(self, start: dict[int, int], end: dict[int, int]) -> Iterator[HeaderedRecord]:
        """Records with start[p] <= offset < end[p]; offset order within each partition."""
        wanted = {p: (max(start.get(p, 0), 0), e) for p, e in end.items() if e > start.get(p, 0)}
        if not wanted:
            return
        try:
            self._consumer.assign(
                [TopicPartition(self.topic, p, s) for p, (s, _) in wanted.items()]
            )
            yield from self._drain(wanted)
        except KafkaException as exc:
            raise DependencyUnavailable(f"kafka at {self.kafka.bootstrap_servers}: {exc}") from None

    def _drain(self, wanted: dict[int, tuple[int, int]]) -> Iterator[HeaderedRecord]:
        pending = set(wanted)
        deadline = time.monotonic() + self.timeout_s
        while pending:
            messages = self._consumer.consume(500, timeout=0.5)
            if messages:
                deadline = time.monotonic() + self.timeout_s
            elif time.monotonic() > deadline:
                raise DependencyUnavailable(f"kafka: reading {self.topic} stalled")
            for m in messages:
                error = m.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise DependencyUnavailable(f"kafka: reading {self.topic}: {error.str()}")
                partition, offset = int(m.partition() or 0), int(m.offset() or 0)
                if partition in pending and offset < wanted[partition][1]:
                    ts_type, ts = m.timestamp()
                    yield HeaderedRecord(
                        self.topic,
                        partition,
                        offset,
                        m.key(),
                        m.value(),
                        ts if ts_type else None,
                        _headers(m.headers()),
                    )
            # Positions, not the last offset seen: compaction and transaction markers leave gaps.
            positions = self._consumer.position(
                [TopicPartition(self.topic, p, OFFSET_END) for p in pending]
            )
            for tp in positions:
                if tp.offset >= wanted[tp.partition][1]:
                    pending.discard(tp.partition)
                    self._consumer.pause([TopicPartition(self.topic, tp.partition)])
