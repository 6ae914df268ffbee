"""The Kafka timestamps of the first records at given offsets, without a consumer group.

`status` and every service's /metrics use it for the age of the oldest record a group
has yet to apply (its lag in seconds): one fetch of one record per lagging partition,
through one client kept for the reader's life.
"""

from __future__ import annotations

import time

from confluent_kafka import OFFSET_END, KafkaException, TopicPartition

from cdc_sync.config import KafkaSettings
from cdc_sync.errors import DependencyUnavailable
from cdc_sync.kafka.reader import groupless_consumer
from cdc_sync.kafka.types import Partition

Span = tuple[int, int]
"""(first offset to read, end offset): the records still to apply."""


class RecordTimes:
    def __init__(self, kafka: KafkaSettings, timeout_s: float = 5.0) -> None:
        self.kafka = kafka
        self.timeout_s = timeout_s
        self._consumer = groupless_consumer(kafka, **{"fetch.wait.max.ms": 10})

    def first(self, spans: dict[Partition, Span]) -> dict[Partition, int]:
        """Partition → epoch ms of the first record in its span that carries a timestamp;
        a partition whose span turns out empty (compaction, retention) is left out."""
        wanted = {p: span for p, span in spans.items() if span[1] > span[0]}
        if not wanted:
            return {}
        assigned = [TopicPartition(p.topic, p.partition, start) for p, (start, _) in wanted.items()]
        try:
            self._consumer.assign(assigned)
            return self._read(wanted)
        except KafkaException as exc:
            raise DependencyUnavailable(f"kafka at {self.kafka.bootstrap_servers}: {exc}") from None
        finally:  # a partition paused here would stay paused in the next assignment
            self._consumer.resume(assigned)
            self._consumer.unassign()

    def _read(self, wanted: dict[Partition, Span]) -> dict[Partition, int]:
        found: dict[Partition, int] = {}
        open_ = set(wanted)
        deadline = time.monotonic() + self.timeout_s
        while open_:
            if time.monotonic() > deadline:
                raise DependencyUnavailable(f"kafka: no record of {sorted(map(str, open_))}")
            for message in self._consumer.consume(len(open_), timeout=0.1):
                if message.error() is not None:
                    continue
                partition = Partition(str(message.topic()), int(message.partition() or 0))
                ts_type, ts = message.timestamp()
                if (
                    partition in open_
                    and ts_type
                    and int(message.offset() or 0) < wanted[partition][1]
                ):
                    found[partition] = ts
                    open_.discard(partition)
                    self._consumer.pause([TopicPartition(partition.topic, partition.partition)])
            open_ -= self._past_end(open_, wanted)
        return found

    def _past_end(self, open_: set[Partition], wanted: dict[Partition, Span]) -> set[Partition]:
        where = [TopicPartition(p.topic, p.partition, OFFSET_END) for p in open_]
        return {
            Partition(tp.topic, tp.partition)
            for tp in self._consumer.position(where)
            if tp.offset >= wanted[Partition(tp.topic, tp.partition)][1]
        }

    def close(self) -> None:
        self._consumer.close()
