"""Which Kafka errors are asked again (transient) and which end the process (terminal)."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError

from cdc_sync.errors import ConfigError, TerminalError
from cdc_sync.kafka.errors import KafkaAuthenticationFailed, on_client_error, terminal

REFUSED_CREDENTIALS = (
    "sasl_plaintext://127.0.0.1:9/bootstrap: SASL authentication error: Authentication failed "
    "during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"
)


@pytest.mark.parametrize(
    "code",
    [
        KafkaError._TRANSPORT,  # connection refused, reset or cut
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._TIMED_OUT,
        KafkaError._MSG_TIMED_OUT,
        KafkaError._DESTROY_BROKER,  # the broker restarted under the request
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.UNKNOWN_TOPIC_OR_PART,  # a topic just created, not yet known everywhere
    ],
    ids=lambda code: KafkaError(code).name(),
)
def test_outages_are_transient(code: int) -> None:
    assert terminal(KafkaError(code)) is None
    on_client_error(KafkaError(code))  # logged; librdkafka asks again by itself


@pytest.mark.parametrize(
    "code", [KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED]
)
def test_refused_credentials_are_a_configuration_error_naming_the_keys(code: int) -> None:
    found = terminal(KafkaError(code, REFUSED_CREDENTIALS))
    assert isinstance(found, KafkaAuthenticationFailed) and isinstance(found, ConfigError)
    assert found.exit_code == 2
    assert "kafka.sasl_username" in str(found) and "kafka.sasl_password" in str(found)
    assert "invalid credentials with SASL mechanism SCRAM-SHA-256" in str(found)


def test_the_client_error_callback_raises_on_refused_credentials() -> None:
    """librdkafka itself retries a refused login forever, and only tells the error callback."""
    with pytest.raises(KafkaAuthenticationFailed):
        on_client_error(KafkaError(KafkaError._AUTHENTICATION, REFUSED_CREDENTIALS))


@pytest.mark.parametrize(
    "code",
    [
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError.INVALID_REPLICATION_FACTOR,
        KafkaError.INVALID_PARTITIONS,
        KafkaError.INVALID_CONFIG,
        KafkaError.POLICY_VIOLATION,
    ],
    ids=lambda code: KafkaError(code).name(),
)
def test_refusals_that_asking_again_cannot_cure_are_terminal(code: int) -> None:
    found = terminal(KafkaError(code))
    assert isinstance(found, TerminalError) and found.exit_code == 1
