"""`cdc-sync lag` against the real broker: missing topics and groups that never committed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Producer

from tests.integration.cli_support import run_cli
from tests.integration.consumer_support import commit_offsets

TABLE = {"name": "ITEMS", "primary_key": ["ID"]}


def _produce(bootstrap: str, topic: str, per_partition: dict[int, int]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for partition, count in per_partition.items():
        for i in range(count):
            producer.produce(
                topic, key=f"{partition}-{i}".encode(), value=b"{}", partition=partition
            )
    assert producer.flush(30) == 0


def test_a_missing_topic_is_named_not_shown_as_an_empty_table(
    make_config: Callable[..., Path], sqlite_url: str
) -> None:
    config = make_config(sqlite_url, tables=[TABLE])
    prefix = config.read_text().split('topic_prefix = "')[1].split('"')[0]
    topic = f"{prefix}.ITEMS"

    shown = run_cli(config, "lag")
    assert shown.returncode == 0, shown.stderr
    assert f"topic {topic} does not exist" in shown.stdout + shown.stderr

    as_json = run_cli(config, "lag", "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["missing_topics"] == [topic]
    assert data["partitions"] == []


def test_a_group_that_never_committed_is_not_caught_up(
    make_config: Callable[..., Path],
    sqlite_url: str,
    make_topic: Callable[..., str],
    kafka_bootstrap: str,
) -> None:
    """Invariant: total_lag is 0 only when the group has nothing left to read.

    Nothing committed means the consumer starts at the earliest offset, so every
    record in such a partition is still to be applied.
    """
    config = make_config(sqlite_url, tables=[TABLE])
    text = config.read_text()
    prefix = text.split('topic_prefix = "')[1].split('"')[0]
    group = text.split('group_id = "')[1].split('"')[0]
    topic = make_topic(3, name=f"{prefix}.ITEMS")
    _produce(kafka_bootstrap, topic, {0: 4, 1: 2})

    before = json.loads(run_cli(config, "lag", "--json").stdout)
    assert before["total_lag"] == 6
    assert before["uncommitted_partitions"] == 3
    rows = {p["partition"]: p for p in before["partitions"]}
    assert rows[0]["committed"] is None and rows[0]["lag"] is None  # as Kafka's tools show it
    assert rows[0]["pending"] == 4 and rows[1]["pending"] == 2 and rows[2]["pending"] == 0

    shown = run_cli(config, "lag")
    assert "nothing committed" in shown.stdout

    commit_offsets(kafka_bootstrap, group, topic, {0: 4, 1: 1, 2: 0})
    after = json.loads(run_cli(config, "lag", "--json").stdout)
    assert after["total_lag"] == 1
    assert after["uncommitted_partitions"] == 0
    assert [p["lag"] for p in after["partitions"]] == [0, 1, 0]
