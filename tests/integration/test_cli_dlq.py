"""`cdc-sync dlq list` and `dlq replay` against the real Kafka."""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from cdc_sync.events.encode import encode_key, encode_value
from cdc_sync.events.model import UNAVAILABLE, ChangeEvent
from tests.integration.cli_support import run_cli


def dead_letter(
    topic: str, partition: int, offset: int, code: str, reason: str
) -> list[tuple[str, bytes]]:
    return [
        ("cdc.error.code", code.encode()),
        ("cdc.error.reason", reason.encode()),
        ("cdc.original.topic", topic.encode()),
        ("cdc.original.partition", str(partition).encode()),
        ("cdc.original.offset", str(offset).encode()),
        ("cdc.original.timestamp", b"1714564800000"),
    ]


def read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 30) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{time.time()}",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
    found: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < expected and time.monotonic() < deadline:
        found += [m for m in consumer.consume(100, 0.5) if m.error() is None]
    consumer.close()
    return found


def test_list_and_replay(
    make_config: Callable[..., Path],
    make_topic: Callable[..., str],
    sqlite_url: str,
    kafka_bootstrap: str,
) -> None:
    config = make_config(sqlite_url)
    dlq = tomllib.loads(config.read_text())["kafka"]["dead_letter_topic"]
    make_topic(partitions=2, name=dlq)
    original = make_topic(partitions=3)
    letters = [
        (
            b'{"ID":1}',
            b'{"op":"c","after":{"ID":1,"PRICE":"x"}}',
            dead_letter(original, 1, 41, "mapping", "column PRICE: not a number"),
        ),
        (
            b'{"ID":2}',
            b"\xff\xfe not json",
            dead_letter(original, 2, 7, "decode", "malformed JSON"),
        ),
        (b'{"ID":3}', b"{}", []),  # no headers: cannot be replayed
    ]
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for key, value, headers in letters:
        producer.produce(dlq, key=key, value=value, headers=headers, partition=0)
    assert producer.flush(30) == 0

    listed = run_cli(config, "dlq", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["offset"] for r in rows] == [0, 1, 2]
    assert rows[0]["code"] == "mapping" and rows[0]["reason"] == "column PRICE: not a number"
    assert rows[0]["original"] == {
        "topic": original,
        "partition": 1,
        "offset": 41,
        "timestamp": "2024-05-01T12:00:00.000+00:00",
    }
    assert rows[1]["key"] == '{"ID":2}'

    text = run_cli(config, "dlq", "list", "--limit", "1")
    assert text.returncode == 0, text.stderr
    assert f"{original}[1]@41" in text.stdout and "mapping: column PRICE" in text.stdout
    assert len(text.stdout.splitlines()) == 1 and "of 3" in text.stderr

    dry = run_cli(config, "dlq", "replay", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would replay 2 dead letter(s); 1 without an original topic skipped" in dry.stdout

    done = run_cli(config, "dlq", "replay")
    assert done.returncode == 0, done.stderr
    assert "replayed 2 dead letter(s)" in done.stdout
    back = read_all(kafka_bootstrap, original, 2)
    assert sorted((m.key(), m.value()) for m in back) == sorted((k, v) for k, v, _ in letters[:2])

    again = run_cli(config, "dlq", "replay")
    assert "replayed 0 dead letter(s)" in again.stdout  # the last replay is remembered
    everything = run_cli(config, "dlq", "replay", "--since-offset", "1", "--dry-run")
    assert "would replay 1 dead letter(s)" in everything.stdout

    status = run_cli(config, "status", "--json")
    assert any(
        r["kind"] == "dlq-replay" and r["rows"] == 2 for r in json.loads(status.stdout)["runs"]
    )


def test_replay_resends_a_key_from_its_last_full_image_or_delete_on(
    make_config: Callable[..., Path],
    make_topic: Callable[..., str],
    sqlite_url: str,
    kafka_bootstrap: str,
) -> None:
    """Per original topic and key, the dead letters before the last full image or delete are
    superseded (the rule of documents.compact) and not re-sent, nor one dead-lettered twice;
    a record that cannot be read now is kept unless a later full image supersedes it."""
    table = {"name": "ITEMS", "primary_key": ["ID"], "capture": "debezium"}  # partial updates
    config = make_config(sqlite_url, tables=[table])
    kafka = tomllib.loads(config.read_text())["kafka"]
    make_topic(partitions=1, name=kafka["dead_letter_topic"])
    original = make_topic(partitions=3, name=f"{kafka['topic_prefix']}.ITEMS")

    def full(i: int, title: str) -> bytes:
        return encode_value(ChangeEvent("u", {"ID": i}, after={"ID": i, "TITLE": title}), 0)

    def partial(i: int) -> bytes:
        return encode_value(ChangeEvent("u", {"ID": i}, after={"ID": i, "TITLE": UNAVAILABLE}), 0)

    deleted = encode_value(ChangeEvent("d", {"ID": 1}, before={"ID": 1}), 0)
    letters = [  # (key, value, original offset)
        (1, full(1, "a"), 10),
        (1, partial(1), 11),
        (1, deleted, 12),
        (1, full(1, "b"), 14),
        (1, partial(1), 15),
        (2, full(2, "c"), 20),
        (2, full(2, "c"), 20),  # dead-lettered twice (the consumer restarted meanwhile)
        (3, b"\xff not json", 30),
        (3, full(3, "d"), 31),
        (4, full(4, "e"), 40),
        (4, b"\xff not json", 41),
    ]
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i, value, offset in letters:
        headers = dead_letter(original, 0, offset, "meilisearch", "rejected")
        producer.produce(
            kafka["dead_letter_topic"], key=encode_key({"ID": i}), value=value, headers=headers
        )
    assert producer.flush(30) == 0

    done = run_cli(config, "dlq", "replay")
    assert done.returncode == 0, done.stderr
    assert (
        "replayed 6 dead letter(s); 0 without an original topic skipped; 5 superseded"
        in done.stdout
    )
    back = read_all(kafka_bootstrap, original, 6)
    expected = [letters[k] for k in (3, 4, 5, 8, 9, 10)]
    assert sorted((m.key(), m.value()) for m in back) == sorted(
        (encode_key({"ID": i}), v) for i, v, _ in expected
    )
