"""A thin adapter over confluent_kafka.Consumer: explicit offsets only, no auto-commit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from cdc_sync.config import KafkaSettings
from cdc_sync.errors import DependencyUnavailable, TransientError
from cdc_sync.kafka.clients import client_config
from cdc_sync.kafka.types import Partition, Received

log = logging.getLogger(__name__)

OnPartitions = Callable[[list[Partition]], None]


class MemberFenced(TransientError):
    """Another member took this consumer's group.instance.id. After a coordinator restart
    that is usually this very consumer, whose join answer was lost; a new client rejoins."""


def _tps(offsets: dict[Partition, int]) -> list[TopicPartition]:
    return [TopicPartition(p.topic, p.partition, o) for p, o in offsets.items()]


def _parts(tps: Iterable[TopicPartition]) -> list[Partition]:
    return [Partition(tp.topic, tp.partition) for tp in tps]


class KafkaConsumer:
    """Group member that commits only the offsets it is given (auto commit and store off)."""

    def __init__(
        self,
        kafka: KafkaSettings,
        group_id: str | None = None,
        instance_id: str | None = None,
        **overrides: Any,
    ) -> None:
        config = {
            "group.id": group_id or kafka.group_id,
            **({"group.instance.id": instance_id} if instance_id else {}),
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 10_000,
            "heartbeat.interval.ms": 2_000,
            "max.poll.interval.ms": 300_000,
            "fetch.max.bytes": 16 * 1024 * 1024,
            # librdkafka prefetches up to 64 MiB by default: memory that grows with the backlog
            "queued.max.messages.kbytes": 16 * 1024,
            **client_config(kafka),
            **overrides,
        }
        self.bootstrap = kafka.bootstrap_servers
        self._consumer = Consumer(config)
        self._admin = AdminClient(client_config(kafka))
        self._partitions: dict[tuple[str, int], Partition] = {}  # one value object per partition

    def subscribe(
        self, topics: list[str], on_assign: OnPartitions, on_revoke: OnPartitions
    ) -> None:
        def assigned(_: Consumer, tps: list[TopicPartition]) -> None:
            on_assign(_parts(tps))

        def revoked(_: Consumer, tps: list[TopicPartition]) -> None:
            on_revoke(_parts(tps))

        self._consumer.subscribe(topics, on_assign=assigned, on_revoke=revoked, on_lost=revoked)

    def consume(self, num: int, timeout_s: float) -> list[Received]:
        """Up to `num` records: those already fetched, else the first within `timeout_s`.

        librdkafka's batch call waits out its whole timeout to fill the batch,
        which at a light rate would hold every record back by that timeout; so
        it is only ever asked for what is already there, or for one record.
        """
        messages = self._consumer.consume(num, 0)
        if not messages and timeout_s > 0:
            messages = self._consumer.consume(1, timeout_s)
            if messages and num > 1:
                messages += self._consumer.consume(num - 1, 0)
        records = []
        for msg in messages:
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._FATAL or error.fatal():
                    # a fatal consumer consumes nothing more, though it stays connected
                    if "fenced" in error.str():
                        raise MemberFenced(f"kafka consumer: {error.str()}")
                    raise DependencyUnavailable(f"kafka consumer: {error.str()}")
                log.debug("kafka: %s", error.str())
                continue
            ts_type, ts = msg.timestamp()
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            assert topic is not None and partition is not None and offset is not None
            where = self._partitions.get((topic, partition))
            if where is None:
                where = self._partitions[(topic, partition)] = Partition(topic, partition)
            records.append(
                Received(
                    where,
                    offset,
                    msg.key(),
                    msg.value(),
                    ts if ts_type else None,
                )
            )
        return records

    def pause(self, partitions: Iterable[Partition]) -> None:
        tps = [TopicPartition(p.topic, p.partition) for p in partitions]
        if tps:
            self._consumer.pause(tps)

    def resume(self, partitions: Iterable[Partition]) -> None:
        tps = [TopicPartition(p.topic, p.partition) for p in partitions]
        if tps:
            self._consumer.resume(tps)

    def seek(self, partition: Partition, offset: int) -> None:
        """Read the (assigned) partition again from `offset`; what was fetched beyond is dropped."""
        try:
            self._consumer.seek(TopicPartition(partition.topic, partition.partition, offset))
        except KafkaException as exc:
            reason = exc.args[0].str()
            raise TransientError(f"kafka seek {partition} to {offset}: {reason}") from None

    def commit(self, offsets: dict[Partition, int]) -> None:
        """Synchronous commit of explicit next-offsets; raises TransientError if refused."""
        if not offsets:
            return
        try:
            self._consumer.commit(offsets=_tps(offsets), asynchronous=False)
        except KafkaException as exc:
            raise TransientError(f"kafka commit failed: {exc.args[0].str()}") from None

    def committed(
        self, partitions: Iterable[Partition], timeout_s: float = 10.0
    ) -> dict[Partition, int | None]:
        """The group's committed offsets as the broker has them (None: nothing committed)."""
        tps = [TopicPartition(p.topic, p.partition) for p in partitions]
        try:
            found = self._consumer.committed(tps, timeout=timeout_s)
        except KafkaException as exc:
            raise TransientError(f"kafka committed offsets: {exc.args[0].str()}") from None
        return {
            Partition(tp.topic, tp.partition): None
            if tp.offset == OFFSET_INVALID or tp.offset < 0
            else tp.offset
            for tp in found
        }

    def watermarks(
        self, partitions: Iterable[Partition], timeout_s: float = 10.0
    ) -> dict[Partition, tuple[int, int]]:
        """(low, high) per partition: the first offset still stored and the end offset.

        One ListOffsets request per kind instead of a round trip per partition.
        """
        wanted = list(partitions)
        if not wanted:
            return {}
        found: dict[Partition, list[int]] = {p: [0, 0] for p in wanted}
        specs = (OffsetSpec.earliest(), OffsetSpec.latest())  # type: ignore[no-untyped-call]
        for slot, spec in enumerate(specs):
            request = {TopicPartition(p.topic, p.partition): spec for p in wanted}
            try:
                futures = self._admin.list_offsets(request, request_timeout=timeout_s)
                for tp, future in futures.items():
                    found[Partition(tp.topic, tp.partition)][slot] = int(future.result().offset)
            except KafkaException as exc:
                raise TransientError(f"kafka list offsets: {exc.args[0].str()}") from None
        return {p: (low, high) for p, (low, high) in found.items()}

    def fetched_high(self, partition: Partition) -> int | None:
        """The end offset last seen in fetch responses (no broker round trip)."""
        try:
            _, high = self._consumer.get_watermark_offsets(
                TopicPartition(partition.topic, partition.partition), cached=True
            )
        except KafkaException:
            return None
        return int(high) if high is not None and high >= 0 else None

    def partitions_of(self, topics: Iterable[str], timeout_s: float = 10.0) -> list[Partition]:
        try:
            metadata = self._consumer.list_topics(timeout=timeout_s)
        except KafkaException as exc:
            raise DependencyUnavailable(f"kafka at {self.bootstrap}: {exc}") from None
        found: list[Partition] = []
        for topic in topics:
            meta = metadata.topics.get(topic)
            if meta is None or meta.error is not None:
                continue
            found.extend(Partition(topic, p) for p in sorted(meta.partitions))
        return found

    def close(self) -> None:
        self._consumer.close()
