"""Reading an offset range of a topic without a consumer group.

The reader assigns partitions directly and never commits, so it does not
disturb any group's offsets or trigger a rebalance. Bootstrap's catch-up and
the dead-letter tools read through it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, TopicPartition

from cdc_sync.config import KafkaSettings
from cdc_sync.errors import DependencyUnavailable
from cdc_sync.kafka.clients import client_config
from cdc_sync.kafka.types import Partition

Offsets = dict[int, int]
"""Partition → offset."""


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


def groupless_consumer(kafka: KafkaSettings, **overrides: Any) -> Consumer:
    return Consumer(
        {
            **overrides,
            **client_config(kafka),
            # A group id is required by the client; nothing is ever committed under it.
            "group.id": f"cdc-sync-reader-{uuid.uuid4().hex[:12]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.partition.eof": False,
        }
    )


_SETTLING = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError._UNKNOWN_PARTITION,
}
"""Errors a freshly created topic answers with until its partitions have leaders."""


def watermarks(
    kafka: KafkaSettings, topic: str, timeout_s: float = 30.0, settle_s: float | None = None
) -> tuple[Offsets, Offsets]:
    """(first stored offset, next offset to be written) of every partition of `topic`.

    A topic that is still settling (just created, no leaders yet) is asked again
    for up to `settle_s` (default: `timeout_s`); 0 fails at once.
    """
    deadline = time.monotonic() + (timeout_s if settle_s is None else settle_s)
    while True:
        try:
            return _watermarks(kafka, topic, timeout_s)
        except KafkaException as exc:
            error = exc.args[0]
            settling = isinstance(error, KafkaError) and (
                error.code() in _SETTLING or error.retriable()
            )
            if not settling or time.monotonic() >= deadline:
                if (
                    isinstance(error, KafkaError)
                    and error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
                ):
                    raise DependencyUnavailable(f"kafka: topic {topic} does not exist") from None
                raise DependencyUnavailable(f"kafka at {kafka.bootstrap_servers}: {exc}") from None
            time.sleep(0.2)


def end_offsets(kafka: KafkaSettings, topic: str, timeout_s: float = 30.0) -> Offsets:
    """The high watermark (next offset to be written) of every partition of `topic`."""
    return watermarks(kafka, topic, timeout_s)[1]


def _watermarks(kafka: KafkaSettings, topic: str, timeout_s: float) -> tuple[Offsets, Offsets]:
    consumer = groupless_consumer(kafka)
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s)
        described = metadata.topics.get(topic)
        if described is None or described.error is not None:
            raise KafkaException(
                described.error if described else KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)
            )
        low, high = {}, {}
        for partition in sorted(described.partitions):
            low[partition], high[partition] = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout_s, cached=False
            )
        return low, high
    finally:
        consumer.close()


def latest_records(kafka: KafkaSettings, topic: str, per_partition: int = 3) -> list[Record]:
    """The last few records of every partition of `topic` (none for an empty topic)."""
    low, high = watermarks(kafka, topic, settle_s=0)
    start = {p: max(low[p], high[p] - per_partition) for p in high}
    return list(read_range(kafka, topic, start, high, stall_timeout_s=15))


def _headers(raw: Any) -> dict[str, str]:
    pairs = raw.items() if isinstance(raw, dict) else raw or []
    return {
        k: v.decode("utf-8", "replace") if isinstance(v, bytes) else (v or "") for k, v in pairs
    }


def read_range(
    kafka: KafkaSettings,
    topic: str,
    start: Offsets,
    end: Offsets,
    stall_timeout_s: float = 60.0,
    batch: int = 1000,
) -> Iterator[Record]:
    """Yield every record with start[p] <= offset < end[p], in offset order per partition.

    A poll asks for no more records than are still due, so a short range ends with its
    last record instead of the poll's timeout. Fails when no record arrives for
    `stall_timeout_s` while some are still due.
    """
    wanted = {p: (max(start.get(p, 0), 0), e) for p, e in end.items() if e > start.get(p, 0)}
    if not wanted:
        return
    consumer = groupless_consumer(kafka)
    try:
        consumer.assign([TopicPartition(topic, p, s) for p, (s, _) in wanted.items()])
        pending = set(wanted)
        at = {p: s for p, (s, _) in wanted.items()}
        deadline = time.monotonic() + stall_timeout_s
        while pending:
            due = sum(wanted[p][1] - at[p] for p in pending)  # gaps make it an upper bound
            messages = consumer.consume(max(1, min(batch, due)), timeout=0.5)
            if messages:
                deadline = time.monotonic() + stall_timeout_s
            elif time.monotonic() > deadline:
                raise DependencyUnavailable(f"kafka: reading {topic} up to {end} stalled")
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise DependencyUnavailable(f"kafka: reading {topic}: {error.str()}")
                partition, offset = int(message.partition() or 0), int(message.offset() or 0)
                if partition in pending and offset < wanted[partition][1]:
                    at[partition] = offset + 1
                    ts_type, ts = message.timestamp()
                    yield Record(
                        topic,
                        partition,
                        offset,
                        message.key(),
                        message.value(),
                        ts if ts_type else None,
                        _headers(message.headers()),
                    )
            # Positions, not the last offset seen: compaction and transaction markers leave gaps.
            for tp in consumer.position([TopicPartition(topic, p, OFFSET_END) for p in pending]):
                at[tp.partition] = max(at[tp.partition], tp.offset)
                if tp.offset >= 0 and tp.offset >= wanted[tp.partition][1]:
                    pending.discard(tp.partition)
                    consumer.pause([TopicPartition(topic, tp.partition)])
    except KafkaException as exc:
        raise DependencyUnavailable(f"kafka at {kafka.bootstrap_servers}: {exc}") from None
    finally:
        consumer.close()


def read_offsets(
    kafka: KafkaSettings, topic: str, partition: int, offsets: Iterable[int]
) -> dict[int, Record]:
    """The records at `offsets` of one partition that Kafka still holds, by offset."""
    wanted = set(offsets)
    if not wanted:
        return {}
    span = read_range(kafka, topic, {partition: min(wanted)}, {partition: max(wanted) + 1})
    return {r.offset: r for r in span if r.offset in wanted}


class PartitionReader:
    """Reads one partition from any offset, reusing one client (no group, nothing committed)."""

    def __init__(self, kafka: KafkaSettings, topic: str, partition: int) -> None:
        self.kafka = kafka
        self.topic = topic
        self.partition = partition
        # Short fetch waits: each read is a jump (seek), not a stream.
        self._consumer = groupless_consumer(kafka, **{"fetch.wait.max.ms": 10})
        self._assigned = False

    def read(self, offset: int, end: int, limit: int = 50, timeout_s: float = 30.0) -> list[Record]:
        """The next records from `offset` (at most `limit`, none at or past `end`), in order;
        returns as soon as some arrived. Empty only when none is left before `end`."""
        if offset >= end:
            return []
        try:
            where = TopicPartition(self.topic, self.partition, offset)
            if self._assigned:
                self._consumer.seek(where)  # much sooner than assigning again
            else:
                self._consumer.assign([where])
                self._assigned = True
            deadline = time.monotonic() + timeout_s
            while True:
                out = []
                for message in self._consumer.consume(limit, timeout=0.1):
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            continue
                        raise DependencyUnavailable(f"kafka: reading {self.topic}: {error.str()}")
                    at = int(message.offset() or 0)
                    if at < end:
                        out.append(
                            Record(self.topic, self.partition, at, message.key(), message.value())
                        )
                if out:
                    return out
                position = self._consumer.position(
                    [TopicPartition(self.topic, self.partition, OFFSET_END)]
                )[0].offset
                if position >= end:
                    return []
                if time.monotonic() > deadline:
                    raise DependencyUnavailable(
                        f"kafka: reading {self.topic}[{self.partition}] from {offset} stalled"
                    )
        except KafkaException as exc:
            raise DependencyUnavailable(f"kafka at {self.kafka.bootstrap_servers}: {exc}") from None

    def close(self) -> None:
        self._consumer.close()


class PartitionReads:
    """Records read again outside any group: by offset, or a partition from any offset."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self.kafka = kafka

    def records_at(self, partition: Partition, offsets: Iterable[int]) -> dict[int, Record]:
        return read_offsets(self.kafka, partition.topic, partition.partition, offsets)

    def reader(self, partition: Partition) -> PartitionReader:
        return PartitionReader(self.kafka, partition.topic, partition.partition)
