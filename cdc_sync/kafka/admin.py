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
from cdc_sync.kafka.errors import terminal

log = logging.getLogger(__name__)

RETRY_S = 1.0
ASK_S = 5.0
"""The longest one metadata request waits: refused credentials show only after it."""
VISIBLE_POLL_S = 0.02
"""How often a new topic is looked for until its partitions are led (tens of milliseconds)."""


def admin_client(kafka: KafkaSettings) -> AdminClient:
    return AdminClient(kafka.client_config())


def cluster_id(kafka: KafkaSettings, timeout_s: float = 5.0) -> str:
    """Ask the cluster for its metadata; raise DependencyUnavailable if it does not answer."""
    admin = admin_client(kafka)
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        admin.poll(0)  # raises refused credentials, which librdkafka only reports there
        raise DependencyUnavailable(f"kafka at {kafka.bootstrap_servers}: {exc}") from None
    return str(metadata.cluster_id)


def topic_names(kafka: KafkaSettings, timeout_s: float = 5.0) -> set[str]:
    """The cluster's topics; raise DependencyUnavailable if it does not answer."""
    admin = admin_client(kafka)
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        admin.poll(0)
        raise DependencyUnavailable(f"kafka at {kafka.bootstrap_servers}: {exc}") from None
    return set(metadata.topics)


def ensure_topics(
    kafka: KafkaSettings,
    topics: Iterable[str],
    partitions: int | None = None,
    timeout_s: float = 30.0,
    admin: AdminClient | None = None,
) -> None:
    """Create missing topics with the configured partitions; existing ones are left alone.

    A broker that is away or restarting is asked again for up to `timeout_s`, then
    DependencyUnavailable; a refusal asking again cannot cure (credentials, authorization,
    invalid settings) ends it at once (`kafka.errors.terminal`). Returns once every topic
    it did not find shows in the cluster's metadata with its partitions led: a consumer
    that subscribes before the broker knows a new topic (right after a broker restart, or
    when another process has just created it) leaves the topic out of its assignment until
    its next metadata refresh, minutes later.
    """
    admin = admin or admin_client(kafka)
    wanted = sorted(set(topics))
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            missing = _create_missing(admin, kafka, wanted, partitions, timeout_s)
            _wait_until_visible(admin, missing, deadline)
            return
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            admin.poll(0)  # raises refused credentials, which librdkafka only reports there
            refused = terminal(error, f"kafka at {kafka.bootstrap_servers}: cannot create topics")
            if refused is not None and not _brokers_fenced(admin, kafka, error):
                raise refused from None
            if time.monotonic() > deadline:
                raise DependencyUnavailable(
                    f"kafka at {kafka.bootstrap_servers}: cannot create topics: {error.str()}"
                ) from None
            log.warning("kafka: creating topics: %s; asking again", error.str())
            time.sleep(RETRY_S)


def _brokers_fenced(admin: AdminClient, kafka: KafkaSettings, error: KafkaError) -> bool:
    """A replication factor refused although the cluster has the brokers it needs: they are
    fenced for the moment (a KRaft broker restarting), so asking again will cure it."""
    if error.code() != KafkaError.INVALID_REPLICATION_FACTOR:
        return False
    try:
        brokers = len(admin.list_topics(timeout=ASK_S).brokers)
    except KafkaException:
        return True  # the broker is away: the restart is still under way
    return kafka.replication_factor <= brokers


def _create_missing(
    admin: AdminClient,
    kafka: KafkaSettings,
    wanted: list[str],
    partitions: int | None,
    timeout_s: float,
) -> list[str]:
    existing = set(admin.list_topics(timeout=min(timeout_s, ASK_S)).topics)
    missing = [t for t in wanted if t not in existing]
    if not missing:
        return []
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
                raise
    return missing


def _wait_until_visible(admin: AdminClient, topics: list[str], deadline: float) -> None:
    while topics:
        found = admin.list_topics(timeout=min(max(deadline - time.monotonic(), 1.0), ASK_S)).topics
        topics = [t for t in topics if not _usable(found.get(t))]
        if topics and time.monotonic() > deadline:
            raise DependencyUnavailable(
                f"kafka: topics {', '.join(topics)} were created but their partitions have no "
                "leader yet"
            )
        time.sleep(VISIBLE_POLL_S if topics else 0)


def _usable(topic: Any) -> bool:
    if topic is None or topic.error is not None or not topic.partitions:
        return False
    return all(p.error is None and p.leader >= 0 for p in topic.partitions.values())
