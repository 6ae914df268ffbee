"""Topic creation and cluster metadata."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from cdc_sync.config import KafkaSettings
from cdc_sync.errors import DependencyUnavailable

log = logging.getLogger(__name__)


def admin_client(kafka: KafkaSettings) -> AdminClient:
    return AdminClient(kafka.client_config())


def cluster_id(kafka: KafkaSettings, timeout_s: float = 5.0) -> str:
    """Ask the cluster for its metadata; raise DependencyUnavailable if it does not answer."""
    try:
        metadata = admin_client(kafka).list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise DependencyUnavailable(f"kafka at {kafka.bootstrap_servers}: {exc}") from None
    return str(metadata.cluster_id)


def ensure_topics(
    kafka: KafkaSettings,
    topics: Iterable[str],
    partitions: int | None = None,
    timeout_s: float = 30.0,
    admin: AdminClient | None = None,
) -> None:
    """Create missing topics with the configured partitions; existing ones are left alone.

    Returns once every topic it did not find shows in the cluster's metadata with its
    partitions led: a consumer that subscribes before the broker knows a new topic (right
    after a broker restart, or when another process has just created it) leaves the topic
    out of its assignment until its next metadata refresh, minutes later.
    """
    admin = admin or admin_client(kafka)
    wanted = sorted(set(topics))
    try:
        existing = set(admin.list_topics(timeout=timeout_s).topics)
    except KafkaException as exc:
        raise DependencyUnavailable(f"kafka at {kafka.bootstrap_servers}: {exc}") from None
    missing = [t for t in wanted if t not in existing]
    if not missing:
        return
    new = [
        NewTopic(
            t,
            num_partitions=partitions or kafka.partitions,
            replication_factor=kafka.replication_factor,
        )
        for t in missing
    ]
    for topic, future in admin.create_topics(new, operation_timeout=timeout_s).items():
        try:
            future.result()
            log.info("created topic %s", topic)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise DependencyUnavailable(f"kafka: cannot create topic {topic}: {exc}") from None
    _wait_until_visible(admin, missing, timeout_s)


def _wait_until_visible(admin: AdminClient, topics: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            found = admin.list_topics(timeout=timeout_s).topics
        except KafkaException:
            found = {}
        hidden = [t for t in topics if not _usable(found.get(t))]
        if not hidden:
            return
        if time.monotonic() > deadline:
            raise DependencyUnavailable(
                f"kafka: topics {', '.join(hidden)} were created but their partitions have no "
                f"leader after {timeout_s:.0f}s"
            )
        time.sleep(0.1)


def _usable(topic: Any) -> bool:
    if topic is None or topic.error is not None or not topic.partitions:
        return False
    return all(p.error is None and p.leader >= 0 for p in topic.partitions.values())
