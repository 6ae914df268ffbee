"""Which Kafka errors are asked again and which end the process.

librdkafka asks again by itself after an outage (connection refused, reset, broker
restarting, leader moving): those are transient. Credentials the broker refused it
also retries, forever, telling only the client's error callback: asking again
cannot cure them, so they end the process with a message naming the keys to fix,
as the Java client treats an authentication failure as fatal.
"""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError

from cdc_sync.errors import CdcSyncError, ConfigError, TerminalError

log = logging.getLogger(__name__)

AUTHENTICATION = frozenset({KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED})
REFUSED = frozenset(
    {
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError.INVALID_REPLICATION_FACTOR,
        KafkaError.INVALID_PARTITIONS,
        KafkaError.INVALID_CONFIG,
        KafkaError.TOPIC_EXCEPTION,
        KafkaError.POLICY_VIOLATION,
    }
)
"""Refusals of a request that asking again does not change."""


class KafkaAuthenticationFailed(ConfigError):
    """The broker refused the configured credentials (exit 2, like any configuration error)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            [
                "kafka.sasl_username / kafka.sasl_password: the broker refused them "
                f"({detail}); fix the credentials or kafka.sasl_mechanism, then start again"
            ]
        )


class KafkaRefused(TerminalError):
    """The broker refused a request for good (authorization, invalid topic settings)."""

    code = "kafka_refused"


def terminal(error: KafkaError, doing: str = "kafka") -> CdcSyncError | None:
    """The error to end the process with, or None when asking again may succeed."""
    if error.code() in AUTHENTICATION:
        return KafkaAuthenticationFailed(error.str())
    if error.code() in REFUSED:
        return KafkaRefused(f"{doing}: {error.str()}")
    return None


def on_client_error(error: KafkaError) -> None:
    """Every client's error callback, served by poll / consume / flush: a terminal error is
    raised from that call; the others are only logged, since librdkafka asks again itself."""
    found = terminal(error)
    if found is not None:
        raise found
    log.debug("kafka: %s", error.str())
