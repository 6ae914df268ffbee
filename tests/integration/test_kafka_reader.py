"""Reading an offset range of a topic without a consumer group (bootstrap's catch-up, the
dead-letter tools), against the real broker."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import Producer

from cdc_sync.config import KafkaSettings
from cdc_sync.kafka.reader import end_offsets, read_range

pytestmark = pytest.mark.stack


def publish(bootstrap: str, topic: str, count: int, partitions: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(count):
        producer.produce(topic, value=f"v{i}".encode(), partition=i % partitions)
    assert producer.flush(30) == 0


def test_a_short_range_is_read_without_waiting_out_the_poll(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    """A range of fewer records than a poll asks for ends when its last record is read, not
    after the poll's 0.5 s timeout: the fenced last round of a bootstrap reads such a range."""
    topic = make_topic(partitions=3)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    publish(kafka_bootstrap, topic, 3000, 3)
    start = end_offsets(kafka, topic)
    publish(kafka_bootstrap, topic, 30, 3)
    end = end_offsets(kafka, topic)
    assert len(list(read_range(kafka, topic, {p: 0 for p in end}, start))) == 3000
    timings = []
    for _ in range(3):
        began = time.monotonic()
        records = list(read_range(kafka, topic, start, end))
        timings.append(time.monotonic() - began)
        assert sorted(r.value for r in records) == sorted(f"v{i}".encode() for i in range(30))
    assert min(timings) < 0.4, timings
