"""Reading a fixed offset range of a topic without a consumer group (bootstrap's catch-up).

The reader assigns partitions directly and never commits, so it does not
disturb the consumer group's offsets or trigger a rebalance.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, TopicPartition

from cdc_sync.config import KafkaSettings
from cdc_sync.errors import DependencyUnavailable

Offsets = dict[int, int]
"""Partition → offset."""


@dataclass(frozen=True, slots=True)
class Record:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def _consumer(kafka: KafkaSettings) -> Consumer:
    return Consumer(
        {
            **kafka.client_config(),
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


def end_offsets(kafka: KafkaSettings, topic: str, timeout_s: float = 30.0) -> Offsets:
    """The high watermark (next offset to be written) of every partition of `topic`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return _end_offsets(kafka, topic, timeout_s)
        except KafkaException as exc:
            error = exc.args[0]
            settling = isinstance(error, KafkaError) and (
                error.code() in _SETTLING or error.retriable()
            )
            if not settling or time.monotonic() > deadline:
                raise DependencyUnavailable(f"kafka at {kafka.bootstrap_servers}: {exc}") from None
            time.sleep(0.2)


def _end_offsets(kafka: KafkaSettings, topic: str, timeout_s: float) -> Offsets:
    consumer = _consumer(kafka)
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s)
        described = metadata.topics.get(topic)
        if described is None or described.error is not None:
            raise KafkaException(
                described.error if described else KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)
            )
        ends = {}
        for partition in sorted(described.partitions):
            _, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout_s, cached=False
            )
            ends[partition] = int(high)
        return ends
    finally:
        consumer.close()


def read_range(
    kafka: KafkaSettings,
    topic: str,
    start: Offsets,
    end: Offsets,
    timeout_s: float = 300.0,
    batch: int = 1000,
) -> Iterator[Record]:
    """Yield every record with start[p] <= offset < end[p], in offset order per partition."""
    wanted = {p: (start.get(p, 0), e) for p, e in end.items() if e > start.get(p, 0)}
    if not wanted:
        return
    consumer = _consumer(kafka)
    try:
        consumer.assign([TopicPartition(topic, p, s) for p, (s, _) in wanted.items()])
        pending = set(wanted)
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise DependencyUnavailable(
                    f"kafka: reading {topic} up to {end} did not finish within {timeout_s:.0f}s"
                )
            for message in consumer.consume(batch, timeout=0.5):
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise DependencyUnavailable(f"kafka: reading {topic}: {error.str()}")
                partition, offset = message.partition(), message.offset()
                if partition in pending and offset is not None and offset < wanted[partition][1]:
                    yield Record(partition, offset, message.key(), message.value())
            # Positions, not the last offset seen: compaction and transaction markers leave gaps.
            for tp in consumer.position([TopicPartition(topic, p, OFFSET_END) for p in pending]):
                if tp.offset >= 0 and tp.offset >= wanted[tp.partition][1]:
                    pending.discard(tp.partition)
                    consumer.pause([TopicPartition(topic, tp.partition)])
    except KafkaException as exc:
        raise DependencyUnavailable(f"kafka at {kafka.bootstrap_servers}: {exc}") from None
    finally:
        consumer.close()
