"""The lag in seconds of `status` and /metrics, read from the real broker: the Kafka timestamp
of the first record after the group's committed offset (the log start where nothing is
committed). Kafka keeps the timestamp a producer gives (message.timestamp.type CreateTime,
the broker default), so the test sets them and knows the answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Producer

from cdc_sync.config import load_settings
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.ops.table_reader import TableStatusReader
from tests.integration.consumer_support import commit_offsets

TABLE = {"name": "ITEMS", "primary_key": ["ID"]}


def _produce(bootstrap: str, topic: str, partition: int, stamps_ms: list[int]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i, ts in enumerate(stamps_ms):
        producer.produce(topic, key=b"%d" % i, value=b"{}", partition=partition, timestamp=ts)
    assert producer.flush(30) == 0


def test_lag_seconds_is_the_age_of_the_first_record_the_group_has_not_committed(
    make_config: Callable[..., Path], sqlite_url: str
) -> None:
    settings = load_settings(make_config(sqlite_url, tables=[TABLE]))
    kafka = settings.kafka
    topic = settings.topic_of(settings.tables[0])
    ensure_topics(kafka, [topic])
    now_ms = int(time.time() * 1000)
    _produce(kafka.bootstrap_servers, topic, 0, [now_ms - 600_000, now_ms - 300_000, now_ms])
    _produce(kafka.bootstrap_servers, topic, 1, [now_ms - 900_000, now_ms - 60_000])
    reader = TableStatusReader(settings)
    try:
        # nothing committed: from the log start, so partition 1's first record, 900 s old
        (table,) = reader.read().tables
        assert table.lag == 5 and table.lag_s is not None
        assert 900 <= table.lag_s < 960

        commit_offsets(kafka.bootstrap_servers, kafka.group_id, topic, {0: 1, 1: 1})
        (table,) = reader.read().tables  # the same client reads again
        assert table.lag == 3 and table.lag_s is not None
        assert 300 <= table.lag_s < 360  # partition 0's record at offset 1

        commit_offsets(kafka.bootstrap_servers, kafka.group_id, topic, {0: 3, 1: 2})
        (table,) = reader.read().tables
        assert table.lag == 0 and table.lag_s == 0.0
    finally:
        reader.close()
