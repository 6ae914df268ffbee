"""Helpers for the relay tests: run the CLI, read a topic back, Java's murmur2 partitioner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition


def cli(config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "cdc_sync", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def relays_at_once(config: Path, n: int = 2) -> list[str]:
    """`relay --once` in `n` processes started together; their outputs, once all exited 0."""
    relays = [
        subprocess.Popen(
            [sys.executable, "-m", "cdc_sync", "--config", str(config), "relay", "--once"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    outputs = [r.communicate(timeout=120) for r in relays]
    assert all(r.returncode == 0 for r in relays), outputs
    return [out for out, _ in outputs]


def murmur2(data: bytes) -> int:
    """Kafka's Java `Utils.murmur2`."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = length % 4
    tail = data[length - rest :]
    if rest == 3:
        h ^= tail[2] << 16
    if rest >= 2:
        h ^= tail[1] << 8
    if rest >= 1:
        h ^= tail[0]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def java_partition(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: dict[str, Any]
    """The key as JSON; ``{}`` for a record without one (a truncate)."""
    value: dict[str, Any] | None
    raw_key: bytes | None

    @property
    def op(self) -> str:
        return "tombstone" if self.value is None else self.value["op"]


def read_topic(bootstrap: str, topic: str, timeout_s: float = 30) -> list[Record]:
    """Every record of the topic, from the beginning up to the current end offsets."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"read-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        parts = sorted(metadata.partitions)
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in parts
        }
        consumer.assign([TopicPartition(topic, p, 0) for p in parts])
        records: list[Record] = []
        positions = dict.fromkeys(parts, 0)
        import time

        deadline = time.monotonic() + timeout_s
        while any(positions[p] < ends[p] for p in parts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic}: at {positions}, end {ends}")
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            positions[msg.partition()] = msg.offset() + 1
            value = msg.value()
            records.append(
                Record(
                    msg.partition(),
                    msg.offset(),
                    json.loads(msg.key()) if msg.key() is not None else {},
                    json.loads(value) if value is not None else None,
                    msg.key(),
                )
            )
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


def by_key(records: list[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for record in records:
        out.setdefault(json.dumps(record.key, sort_keys=True), []).append(record)
    return out
