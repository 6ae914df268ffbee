"""The dead-letter path: records we cannot apply, with the reason, and a bound on their ratio."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

from cdc_sync.config import ConsumerSettings
from cdc_sync.consumer.flights import Rejection
from cdc_sync.consumer.interfaces import RecordProducer
from cdc_sync.errors import CdcSyncError
from cdc_sync.kafka.producer import DeliveryFailed, Headers
from cdc_sync.kafka.reader import Record
from cdc_sync.kafka.types import Partition, Received
from cdc_sync.retry import Retry

log = logging.getLogger(__name__)

_DELIVERY = Retry(lambda exc: isinstance(exc, DeliveryFailed), first_s=0.5, max_s=30, logger=log)
"""Until Kafka takes them: a dead letter is never dropped."""


class DlqLimitExceeded(CdcSyncError):
    """Too many records dead-lettered: most likely a bad deploy, not bad data."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class DeadLetter:
    record: Received
    code: str
    reason: str


def letters_for(
    partition: Partition, rejections: list[Rejection], records: dict[int, Record]
) -> list[DeadLetter]:
    """Dead letters for rejected documents, with their records as read again from Kafka.

    A record Kafka no longer holds (retention ran out meanwhile) is still
    dead-lettered, without key and value, and the reason says so.
    """
    letters = []
    for rejection in rejections:
        record = records.get(rejection.offset)
        if record is None:
            reason = f"{rejection.reason} (the record is no longer in Kafka)"
            letters.append(
                DeadLetter(
                    Received(partition, rejection.offset, None, None), rejection.code, reason
                )
            )
            continue
        received = Received(partition, record.offset, record.key, record.value, record.timestamp_ms)
        letters.append(DeadLetter(received, rejection.code, rejection.reason))
    return letters


class DlqLimit:
    """Ratio of dead-lettered records over the last `window` outcomes (arroyo's DlqLimit)."""

    def __init__(self, max_ratio: float, window: int) -> None:
        self.max_ratio = max_ratio
        self._outcomes: deque[bool] = deque(maxlen=window)
        self._bad = 0

    def record(self, ok: bool, count: int = 1) -> None:
        for _ in range(count):
            if len(self._outcomes) == self._outcomes.maxlen and not self._outcomes[0]:
                self._bad -= 1
            self._outcomes.append(ok)
            self._bad += not ok

    @property
    def ratio(self) -> float:
        return self._bad / len(self._outcomes) if self._outcomes else 0.0

    def exceeded(self) -> bool:
        """Judged only over a full window, so a few early bad records do not stop the service."""
        return len(self._outcomes) == self._outcomes.maxlen and self.ratio > self.max_ratio

    def check(self, letter: DeadLetter) -> None:
        """Count one dead letter; raise before it is sent if the ratio is over the limit."""
        self.record(False)
        if self.exceeded():
            raise DlqLimitExceeded(
                f"{self._bad} of the last {len(self._outcomes)} records could not be applied "
                f"(limit consumer.dlq_max_ratio = {self.max_ratio}); stopping without committing "
                f"them. Last: {letter.record.partition}@{letter.record.offset}: {letter.reason}"
            )


def headers_for(letter: DeadLetter) -> Headers:
    record = letter.record
    return [
        ("cdc.error.code", letter.code),
        ("cdc.error.reason", letter.reason[:2000]),
        ("cdc.original.topic", record.partition.topic),
        ("cdc.original.partition", str(record.partition.partition)),
        ("cdc.original.offset", str(record.offset)),
        ("cdc.original.timestamp", "" if record.timestamp_ms is None else str(record.timestamp_ms)),
    ]


class DeadLetterQueue:
    """Sends dead letters; they count as done only after `flush` confirmed delivery."""

    def __init__(self, producer: RecordProducer, topic: str, limits: ConsumerSettings) -> None:
        self.producer = producer
        self.topic = topic
        self.limit = DlqLimit(limits.dlq_max_ratio, limits.dlq_window)
        self._pending: list[DeadLetter] = []

    def send(self, letter: DeadLetter) -> None:
        self.limit.check(letter)
        log.warning(
            "dead-lettering %s@%d: %s: %s",
            letter.record.partition,
            letter.record.offset,
            letter.code,
            letter.reason,
        )
        self.producer.send(self.topic, letter.record.key, letter.record.value, headers_for(letter))
        self._pending.append(letter)

    def flush(self) -> list[DeadLetter]:
        """Wait for delivery; returns the letters now safely stored (raises DeliveryFailed)."""
        if not self._pending:
            return []
        _DELIVERY.call("dead-letter delivery", self._flush_or_resend)
        sent, self._pending = self._pending, []
        return sent

    def _flush_or_resend(self) -> None:
        try:
            self.producer.flush()
        except DeliveryFailed:
            for letter in self._pending:  # duplicates are harmless; losses are not
                self.producer.send(
                    self.topic, letter.record.key, letter.record.value, headers_for(letter)
                )
            raise
