from concurrent.futures import Future
from types import SimpleNamespace
from typing import Any

from cdc_sync.config import KafkaSettings
from cdc_sync.kafka.admin import ensure_topics

KAFKA = KafkaSettings(bootstrap_servers="127.0.0.1:9")


def metadata(topics: dict[str, int]) -> Any:
    """A metadata answer listing each topic with its number of led partitions."""
    partition = SimpleNamespace(error=None, leader=1)
    return SimpleNamespace(
        topics={
            name: SimpleNamespace(error=None, partitions=dict.fromkeys(range(count), partition))
            for name, count in topics.items()
        }
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

    def create_topics(self, new: list[Any], operation_timeout: float) -> dict[str, Future[None]]:
        done: Future[None] = Future()
        done.set_result(None)
        return {topic.topic: done for topic in new}


def test_a_created_topic_is_awaited_until_its_partitions_are_visible() -> None:
    admin = Admin()
    ensure_topics(KAFKA, ["t"], admin=admin)
    assert admin.asked == 4  # a consumer subscribing now sees the topic and its partitions
