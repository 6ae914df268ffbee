"""Consumer-group offsets through the AdminClient: read, find by time, and move them.

Used by ``replay --since`` and ``lag``-style tooling; nothing here joins the group.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from cdc_sync.config import KafkaSettings
from cdc_sync.errors import CdcSyncError, DependencyUnavailable
from cdc_sync.kafka.admin import ASK_S
from cdc_sync.kafka.clients import client_config
from cdc_sync.kafka.types import Partition


class GroupActive(CdcSyncError):
    """The group has live members; Kafka refuses offset changes then."""

    exit_code = 1

    def __init__(self, group: str, members: list[str]) -> None:
        self.group = group
        self.members = members
        shown = ", ".join(members[:5]) + (" …" if len(members) > 5 else "")
        super().__init__(
            f"consumer group {group} has {len(members)} active member(s) ({shown}): "
            f"stop the consumers of group {group} first (a stopped static member stays "
            "listed until its session times out, about 10 s)"
        )


class GroupOffsets:
    def __init__(self, kafka: KafkaSettings, timeout_s: float = 30.0) -> None:
        self.kafka = kafka
        self.timeout_s = timeout_s
        self._admin = AdminClient(client_config(kafka))

    def _wait(self, future: Any, what: str) -> Any:
        try:
            return future.result(timeout=self.timeout_s)
        except KafkaException as exc:
            raise DependencyUnavailable(f"kafka: {what}: {exc.args[0].str()}") from None
        except TimeoutError:
            raise DependencyUnavailable(
                f"kafka: {what}: no answer from {self.kafka.bootstrap_servers} "
                f"within {self.timeout_s:.0f}s"
            ) from None

    def partitions(self, topics: Iterable[str]) -> list[Partition]:
        """Every partition of the topics that exist (missing topics are skipped)."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                metadata = self._admin.list_topics(timeout=min(ASK_S, self.timeout_s))
                break
            except KafkaException as exc:
                # refused credentials: librdkafka reports them only to poll, which raises them
                self._admin.poll(0)
                if time.monotonic() > deadline:
                    raise DependencyUnavailable(
                        f"kafka at {self.kafka.bootstrap_servers}: {exc}"
                    ) from None
        found: list[Partition] = []
        for topic in topics:
            meta = metadata.topics.get(topic)
            if meta is not None and meta.error is None:
                found.extend(Partition(topic, p) for p in sorted(meta.partitions))
        return found

    def members(self, group: str) -> list[str]:
        """Client ids and hosts of the group's live members (empty when none is connected)."""
        future = self._admin.describe_consumer_groups([group], request_timeout=self.timeout_s)[
            group
        ]
        described = self._wait(future, f"describe group {group}")
        return [f"{m.client_id}@{m.host}" for m in described.members]

    def committed(self, group: str, partitions: list[Partition]) -> dict[Partition, int | None]:
        request = ConsumerGroupTopicPartitions(
            group, [TopicPartition(p.topic, p.partition) for p in partitions]
        )
        future = self._admin.list_consumer_group_offsets([request])[group]
        result = self._wait(future, f"committed offsets of group {group}")
        return {
            Partition(tp.topic, tp.partition): tp.offset if tp.offset >= 0 else None
            for tp in result.topic_partitions
        }

    def offsets_for_time(self, partitions: list[Partition], ts_ms: int) -> dict[Partition, int]:
        """The first offset whose timestamp is >= ts_ms; the end offset where there is none."""
        at = self._list_offsets(partitions, OffsetSpec.for_timestamp(ts_ms))
        end = self.ends(partitions)
        return {p: at[p] if at[p] >= 0 else end[p] for p in partitions}

    def starts(self, partitions: list[Partition]) -> dict[Partition, int]:
        """Log start offsets (the earliest offset still kept), one request for all partitions."""
        earliest = OffsetSpec.earliest()  # type: ignore[no-untyped-call]
        return self._list_offsets(partitions, earliest)

    def ends(self, partitions: list[Partition]) -> dict[Partition, int]:
        """End offsets (high watermarks), one request for all partitions."""
        latest = OffsetSpec.latest()  # type: ignore[no-untyped-call]
        return self._list_offsets(partitions, latest)

    def _list_offsets(self, partitions: list[Partition], spec: Any) -> dict[Partition, int]:
        if not partitions:
            return {}
        request = {TopicPartition(p.topic, p.partition): spec for p in partitions}
        futures = self._admin.list_offsets(request, request_timeout=self.timeout_s)
        return {
            Partition(tp.topic, tp.partition): int(self._wait(f, f"offsets of {tp.topic}").offset)
            for tp, f in futures.items()
        }

    def commit(self, group: str, offsets: dict[Partition, int]) -> None:
        """Set the group's committed offsets; raises GroupActive while members are connected."""
        members = self.members(group)
        if members:
            raise GroupActive(group, members)
        request = ConsumerGroupTopicPartitions(
            group, [TopicPartition(p.topic, p.partition, o) for p, o in offsets.items()]
        )
        future = self._admin.alter_consumer_group_offsets([request])[group]
        try:
            future.result(timeout=self.timeout_s)
        except KafkaException as exc:
            error = exc.args[0]
            # A member may have joined between the check and the commit.
            if error.name() in {"UNKNOWN_MEMBER_ID", "REBALANCE_IN_PROGRESS", "NON_EMPTY_GROUP"}:
                raise GroupActive(group, self.members(group) or ["?"]) from None
            raise DependencyUnavailable(
                f"kafka: commit offsets of group {group}: {error.str()}"
            ) from None
