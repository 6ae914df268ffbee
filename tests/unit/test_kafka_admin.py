from concurrent.futures import Future
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from cdc_sync.config import KafkaSettings
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.kafka.errors import KafkaAuthenticationFailed, KafkaRefused, on_client_error

KAFKA = KafkaSettings(bootstrap_servers="127.0.0.1:9")


def metadata(topics: dict[str, int], brokers: int = 1) -> Any:
    """A metadata answer listing `brokers` brokers and each topic with its number of led
    partitions."""
    partition = SimpleNamespace(error=None, leader=1)
    return SimpleNamespace(
        brokers={b: SimpleNamespace(id=b) for b in range(1, brokers + 1)},
        topics={
            name: SimpleNamespace(error=None, partitions=dict.fromkeys(range(count), partition))
            for name, count in topics.items()
        },
    )


class Admin:
    """The broker's view lags: a new topic shows up only in the third metadata answer after it
    was created (as right after a broker restart, or when another process created it)."""

    def __init__(self) -> None:
        self.answers = [metadata({}), metadata({}), metadata({"t": 0}), metadata({"t": 3})]
        self.asked = 0

    def list_topics(self, timeout: float) -> Any:
        self.asked += 1
        return self.answers[min(self.asked, len(self.answers)) - 1]

    def poll(self, timeout: float) -> int:
        return 0  # no error callbacks waiting

    def create_topics(self, new: list[Any], operation_timeout: float) -> dict[str, Future[None]]:
        done: Future[None] = Future()
        done.set_result(None)
        return {topic.topic: done for topic in new}


def test_a_created_topic_is_awaited_until_its_partitions_are_visible() -> None:
    admin = Admin()
    ensure_topics(KAFKA, ["t"], admin=admin)
    assert admin.asked == 4  # a consumer subscribing now sees the topic and its partitions


class Failing(Admin):
    """Creation fails first with `code`, then works."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__()
        self.answers = [metadata({}), metadata({}), metadata({"t": 3})]
        self.code, self.reason, self.creates = code, reason, 0

    def create_topics(self, new: list[Any], operation_timeout: float) -> dict[str, Future[None]]:
        self.creates += 1
        if self.creates > 1:
            return super().create_topics(new, operation_timeout)
        failed: Future[None] = Future()
        failed.set_exception(KafkaException(KafkaError(self.code, self.reason or None)))
        return {topic.topic: failed for topic in new}


def test_a_broker_going_away_while_topics_are_created_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("cdc_sync.kafka.admin.RETRY_S", 0)
    admin = Failing(KafkaError._DESTROY_BROKER)  # the broker restarted under the request
    ensure_topics(KAFKA, ["t"], admin=admin)
    assert admin.creates == 2


def test_a_refusal_that_asking_again_does_not_cure_fails_at_once() -> None:
    admin = Failing(KafkaError.INVALID_REPLICATION_FACTOR)  # 3 replicas, 1 broker
    kafka = KAFKA.model_copy(update={"replication_factor": 3})
    with pytest.raises(KafkaRefused, match=r"cannot create topics: .*[Rr]eplication"):
        ensure_topics(kafka, ["t"], admin=admin)
    assert admin.creates == 1


def test_a_replication_factor_refused_while_the_brokers_are_fenced_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A restarting KRaft broker is fenced for a moment: creating a topic is refused
    (INVALID_REPLICATION_FACTOR) although the cluster has the brokers the factor needs."""
    monkeypatch.setattr("cdc_sync.kafka.admin.RETRY_S", 0)
    reason = "Unable to replicate the partition 1 time(s): All brokers are currently fenced"
    admin = Failing(KafkaError.INVALID_REPLICATION_FACTOR, reason)
    admin.answers.insert(0, metadata({}))  # the cluster's brokers, asked after the refusal
    ensure_topics(KAFKA, ["t"], admin=admin)
    assert admin.creates == 2


class Unauthenticated(Admin):
    """A SASL listener refusing the credentials: metadata requests time out (librdkafka logs
    in again and again) and the refusal reaches only the error callback, served by poll."""

    def __init__(self) -> None:
        super().__init__()
        self.polls = 0

    def list_topics(self, timeout: float) -> Any:
        self.asked += 1
        raise KafkaException(KafkaError(KafkaError._TRANSPORT, "Failed to get metadata"))

    def poll(self, timeout: float) -> int:
        self.polls += 1
        on_client_error(KafkaError(KafkaError._AUTHENTICATION, "invalid credentials"))
        return 1


def test_refused_credentials_end_topic_creation_at_once() -> None:
    admin = Unauthenticated()
    with pytest.raises(KafkaAuthenticationFailed, match=r"kafka\.sasl_password"):
        ensure_topics(KAFKA, ["t"], admin=admin)
    assert admin.asked == 1  # not asked again for the whole budget
