"""The relay's producer against a real broker, and against none."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cdc_sync.config import KafkaSettings
from cdc_sync.kafka.producer import DeliveryFailed, Producer
from tests.integration.relay_helpers import read_topic


@pytest.mark.stack
def test_flush_returns_once_every_record_is_acknowledged(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    """Invariant: after `flush` returns, every sent record is in the topic."""
    topic = make_topic(partitions=3)
    producer = Producer(KafkaSettings(bootstrap_servers=kafka_bootstrap))  # type: ignore[call-arg]
    for i in range(2000):
        producer.send(topic, f'{{"ID":{i}}}'.encode(), b"{}")
    producer.flush()
    producer.close()
    assert len(read_topic(kafka_bootstrap, topic)) == 2000


def test_flush_reports_records_that_were_not_delivered() -> None:
    """Invariant: a record the brokers never acknowledged makes `flush` raise, naming it,
    although successful deliveries are not reported one by one."""
    producer = Producer(
        KafkaSettings(bootstrap_servers="127.0.0.1:9"),  # type: ignore[call-arg]
        **{"message.timeout.ms": 300},
    )
    producer.send("nowhere", b'{"ID":1}', b"{}")
    producer.send("nowhere", b'{"ID":2}', b"{}")
    with pytest.raises(DeliveryFailed) as failed:
        producer.flush(timeout_s=10)
    assert len(failed.value.errors) == 2
    assert all(e.startswith("nowhere: ") for e in failed.value.errors)
    producer.flush(timeout_s=1)  # reported once, not again
