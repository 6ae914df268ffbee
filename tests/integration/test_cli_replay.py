"""`cdc-sync replay --since` moves the group's committed offsets back, and only while it is idle."""

from __future__ import annotations

import datetime as dt
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.integration.cli_support import run_cli


def committed(admin: AdminClient, group: str, topic: str) -> dict[int, int]:
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(2)])
    result = admin.list_consumer_group_offsets([request])[group].result(30)
    return {tp.partition: tp.offset for tp in result.topic_partitions}


def test_replay_since(
    make_config: Callable[..., Path],
    make_topic: Callable[..., str],
    sqlite_url: str,
    kafka_bootstrap: str,
    kafka_admin: AdminClient,
) -> None:
    config = make_config(sqlite_url, tables=[{"name": "T", "primary_key": ["ID"]}])
    kafka = tomllib.loads(config.read_text())["kafka"]
    group, topic = kafka["group_id"], f"{kafka['topic_prefix']}.T"
    make_topic(partitions=2, name=topic)

    # partition 0: ten records a minute apart, from an hour ago; partition 1: all two hours old
    hour_ago = int(time.time() * 1000) - 3_600_000
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i in range(10):
        producer.produce(
            topic, key=b"k", value=b"%d" % i, partition=0, timestamp=hour_ago + i * 60_000
        )
        producer.produce(
            topic, key=b"k", value=b"%d" % i, partition=1, timestamp=hour_ago - 3_600_000
        )
    assert producer.flush(30) == 0

    # the consumer applied everything and committed the end offsets, then stopped
    consumer = Consumer(
        {"bootstrap.servers": kafka_bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    consumer.commit(
        offsets=[TopicPartition(topic, 0, 10), TopicPartition(topic, 1, 10)], asynchronous=False
    )
    consumer.close()

    since = dt.datetime.fromtimestamp((hour_ago + 4 * 60_000) / 1000, dt.UTC).isoformat()
    dry = run_cli(config, "replay", "--since", since, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"{topic}[0]: 10 → 4" in dry.stdout and f"{topic}[1]: 10 (unchanged" in dry.stdout
    assert committed(kafka_admin, group, topic) == {0: 10, 1: 10}

    done = run_cli(config, "replay", "--since", since)
    assert done.returncode == 0, done.stderr
    assert "moved 1 partition(s) back; 6 record(s) to re-apply" in done.stdout
    assert committed(kafka_admin, group, topic) == {0: 4, 1: 10}

    # a later time never moves offsets forward
    later = run_cli(config, "replay", "--since", "1m")
    assert later.returncode == 0, later.stderr
    assert committed(kafka_admin, group, topic) == {0: 4, 1: 10}

    bad = run_cli(config, "replay", "--since", "yesterday")
    assert bad.returncode == 2 and "--since 'yesterday'" in bad.stderr

    member = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
        }
    )
    member.subscribe([topic])
    try:
        deadline = time.monotonic() + 30
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(0.2)
        assert member.assignment(), "the group member got no partitions"
        refused = run_cli(config, "replay", "--since", "2h")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert f"stop the consumers of group {group} first" in refused.stderr
        assert committed(kafka_admin, group, topic) == {0: 4, 1: 10}
    finally:
        member.close()
