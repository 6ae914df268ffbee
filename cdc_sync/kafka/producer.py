"""A producer that reports every failed delivery: nothing counts as sent until `flush` says so."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaError, Message
from confluent_kafka import Producer as _Producer

from cdc_sync.config import KafkaSettings
from cdc_sync.errors import TransientError
from cdc_sync.kafka.clients import client_config

log = logging.getLogger(__name__)

Headers = list[tuple[str, str | bytes | None]]


class DeliveryFailed(TransientError):
    """Some records were not acknowledged by the brokers."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(f"{len(errors)} records not delivered: {'; '.join(errors[:3])}{more}")


def producer_config(kafka: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """Idempotent, acks=all, Java-compatible murmur2 partitioning (per-key order holds)."""
    return {
        **client_config(kafka),
        "enable.idempotence": True,
        "acks": "all",
        "partitioner": "murmur2_random",
        "linger.ms": 5,
        "compression.type": "lz4",
        "message.timeout.ms": 60_000,
        **overrides,
    }


class Producer:
    """`producer_config`'s client; every failed delivery is reported by `flush`.

    Delivery reports come for failed records only, to one callback set in the
    client's config: no Python call and no per-record callback object for each
    record that succeeds. `flush` waits for every record either way.
    """

    def __init__(self, kafka: KafkaSettings, **overrides: Any) -> None:
        self._errors: list[str] = []
        self._producer = _Producer(
            producer_config(
                kafka,
                **{"delivery.report.only.error": True, "on_delivery": self._on_delivery},
                **overrides,
            )
        )

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self._errors.append(f"{msg.topic()}: {err.str()}")

    def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None = None
    ) -> None:
        """Queue one record; blocks only while the local queue is full."""
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers)
                return
            except BufferError:
                self._producer.poll(0.05)  # serves delivery reports while the queue drains

    def flush(self, timeout_s: float = 60.0) -> None:
        """Wait for every queued record; raise DeliveryFailed if any was not acknowledged."""
        remaining = self._producer.flush(timeout_s)
        errors, self._errors = self._errors, []
        if remaining:
            errors.append(f"{remaining} records still unacknowledged after {timeout_s:.0f}s")
        if errors:
            raise DeliveryFailed(errors)

    def close(self, timeout_s: float = 10.0) -> None:
        self._producer.flush(timeout_s)
