"""Topic creation and cluster metadata."""

from __future__ import annotations

import logging
from collections.abc import Iterable

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
) -> None:
    """Create missing topics with the configured partitions; existing ones are left alone."""
    admin = admin_client(kafka)
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
