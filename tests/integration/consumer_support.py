"""Helpers for the consumer's integration tests: event streams with a known final state,
consumer processes, group offsets, and a private Meilisearch that may be stopped."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import meilisearch
from confluent_kafka import Consumer, Producer, TopicPartition

from cdc_sync.events.encode import encode_key, encode_value
from cdc_sync.events.model import ChangeEvent
from cdc_sync.sink.ids import document_id

ROOT = Path(__file__).resolve().parents[2]

ITEMS = {"name": "ITEMS", "primary_key": ["ITEM_NO"]}
QUIET = {"log_level": 0}
"""Probes do not print librdkafka's connection failures (the fault suite restarts brokers)."""
LINES = {"name": "LINES", "primary_key": ["ORDER_ID", "LINE_NO"]}


def tables(items_index: str, lines_index: str) -> list[dict[str, Any]]:
    return [{**ITEMS, "index": items_index}, {**LINES, "index": lines_index}]


@dataclass
class Stream:
    """Produced records, where they landed, and the documents each index must end with."""

    records: list[tuple[str, bytes, bytes | None]] = field(default_factory=list)
    placed: list[tuple[int, int]] = field(default_factory=list)
    """(partition, offset) of each record, same order."""
    final: dict[str, dict[str, dict[str, Any] | None]] = field(default_factory=dict)
    """table → doc id → document (None: deleted)."""


def _item_key(rng: random.Random) -> dict[str, Any]:
    n = rng.randrange(1200)
    # a third of the keys have characters Meilisearch ids reject, so they get encoded
    return {"ITEM_NO": f"i{n}" if n % 3 else f"item {n}/ü"}


def _line_key(rng: random.Random) -> dict[str, Any]:
    return {"ORDER_ID": rng.randrange(300), "LINE_NO": rng.randrange(1, 5)}


def make_events(count: int, seed: int = 7) -> list[ChangeEvent]:
    """Inserts, updates and deletes of repeated single and composite keys."""
    rng = random.Random(seed)
    events = []
    for i in range(count):
        table = "ITEMS" if rng.random() < 0.5 else "LINES"
        key = _item_key(rng) if table == "ITEMS" else _line_key(rng)
        if rng.random() < 0.15:
            events.append(ChangeEvent(op="d", key=key, before=key, table=table, change_id=i))
            continue
        row = {**key, "NAME": f"name {i} {rng.random():.6f}", "QTY": rng.randrange(1000)}
        events.append(ChangeEvent(op="u", key=key, after=row, table=table, change_id=i))
    return events


def expected_document(event: ChangeEvent) -> tuple[str, dict[str, Any] | None]:
    doc_id = document_id(list(event.key.values()))
    if event.op == "d" or event.after is None:
        return doc_id, None
    return doc_id, {"id": doc_id, **{k.lower(): v for k, v in event.after.items()}}


def produce(
    bootstrap: str, prefix: str, events: list[ChangeEvent], stream: Stream | None = None
) -> Stream:
    """Publish in our relay format, keyed by primary key (delete + tombstone)."""
    stream = stream or Stream()
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "enable.idempotence": True,  # per-key order must hold, as with the relay
        }
    )
    start = len(stream.placed)
    placed: dict[int, tuple[int, int]] = {}

    def delivered(index: int) -> Callable[[Any, Any], None]:
        def report(err: Any, msg: Any) -> None:
            assert err is None, err
            placed[index] = (msg.partition(), msg.offset())

        return report

    now = int(time.time() * 1000)
    for event in events:
        topic = f"{prefix}.{event.table}"
        key = encode_key(event.key)
        for value in [encode_value(event, now)] + ([None] if event.op == "d" else []):
            index = len(stream.records)
            stream.records.append((topic, key, value))
            producer.produce(topic, key=key, value=value, on_delivery=delivered(index))
            producer.poll(0)
        doc_id, doc = expected_document(event)
        stream.final.setdefault(str(event.table), {})[doc_id] = doc
    assert producer.flush(30) == 0
    stream.placed.extend(placed[i] for i in range(start, len(stream.records)))
    last: dict[tuple[str, bytes], int] = {}
    for (topic, key, _), (_, offset) in zip(stream.records, stream.placed, strict=True):
        assert offset > last.get((topic, key), -1), f"{topic} {key!r}: records out of order"
        last[(topic, key)] = offset
    return stream


def produce_raw(
    bootstrap: str, records: list[tuple[str, bytes | None, bytes | None]]
) -> list[tuple[int, int]]:
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",
            "compression.type": "lz4",
            "enable.idempotence": True,
        }
    )
    placed: dict[int, tuple[int, int]] = {}
    for i, (topic, key, value) in enumerate(records):
        producer.produce(
            topic,
            key=key,
            value=value,
            on_delivery=lambda err, msg, i=i: placed.__setitem__(
                i, (msg.partition(), msg.offset())
            ),
        )
        producer.poll(0)
    assert producer.flush(30) == 0
    return [placed[i] for i in range(len(records))]


def index_documents(client: meilisearch.Client, uid: str) -> dict[str, dict[str, Any]]:
    wait_idle(client, uid)
    docs = client.index(uid).get_documents({"limit": 100_000}).results
    return {d.id: dict(d) for d in docs}


def wait_idle(client: meilisearch.Client, uid: str, timeout_s: float = 60) -> None:
    """Wait until the index has no enqueued or processing task."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = client.get_tasks({"indexUids": uid, "statuses": "enqueued,processing", "limit": 1})
        if not busy.results:
            return
        time.sleep(0.1)
    raise AssertionError(f"tasks of {uid} still running after {timeout_s}s")


def assert_final_state(client: meilisearch.Client, stream: Stream, indexes: dict[str, str]) -> None:
    for table, uid in indexes.items():
        wanted = {k: v for k, v in stream.final.get(table, {}).items() if v is not None}
        found = index_documents(client, uid)
        missing, extra = sorted(set(wanted) - set(found)), sorted(set(found) - set(wanted))
        assert not missing and not extra, f"{table}: missing {missing[:5]}, extra {extra[:5]}"
        assert found == wanted, f"{table}: field values differ"


def group_offsets(bootstrap: str, group: str, topics: list[str]) -> dict[tuple[str, int], int]:
    """The group's committed offsets per (topic, partition); -1 for none."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, **QUIET})
    try:
        metadata = consumer.list_topics(timeout=10)
        tps = [TopicPartition(t, p) for t in topics for p in metadata.topics[t].partitions]
        return {(tp.topic, tp.partition): tp.offset for tp in consumer.committed(tps, timeout=10)}
    finally:
        consumer.close()


def end_offsets(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "probe", **QUIET})
    try:
        metadata = consumer.list_topics(timeout=10)
        return {
            (t, p): consumer.get_watermark_offsets(TopicPartition(t, p), timeout=10)[1]
            for t in topics
            for p in metadata.topics[t].partitions
        }
    finally:
        consumer.close()


def committed_to_end(bootstrap: str, group: str, topics: list[str]) -> Callable[[], bool]:
    """A check for `wait_for`: the group's committed offsets are the topics' end offsets."""
    return lambda: group_offsets(bootstrap, group, topics) == end_offsets(bootstrap, topics)


def commit_offsets(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commit `offsets` (partition → next offset) for `group`, as a consumer of it would."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        consumer.commit(
            offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False
        )
    finally:
        consumer.close()


def wait_for(
    condition: Callable[[], bool], timeout_s: float, what: str, every: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


class ConsumerProcess:
    """`python -m cdc_sync --config … consume` (or another `command`) as a child process,
    logging JSON to a file."""

    def __init__(
        self,
        config: Path,
        log: Path,
        *args: str,
        command: str = "consume",
        env: dict[str, str] | None = None,
    ) -> None:
        self.log = log
        env = {**os.environ, "CDC_SYNC__LOGGING__FORMAT": "json", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cdc_sync", "--config", str(config), command, *args],
            stdout=subprocess.DEVNULL,
            stderr=log.open("ab"),
            env=env,
            cwd=ROOT,
        )

    def wait(self, timeout_s: float) -> int:
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(
                f"consumer did not exit within {timeout_s}s:\n{self.tail()}"
            ) from None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def __enter__(self) -> ConsumerProcess:
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateMeilisearch:
    """A Meilisearch of our own (same cached binary as the stack) that a test may stop."""

    KEY = "private-test-master-key-0123456789"

    def __init__(self, data: Path) -> None:
        found = sorted((ROOT / ".stack" / "meili" / "bin").glob("meilisearch*"))
        if not found:
            raise AssertionError("no Meilisearch binary under .stack/meili/bin (run dev/stack up)")
        self.binary = found[-1]
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                "--http-addr",
                f"127.0.0.1:{self.port}",
                "--db-path",
                str(self.data / "db"),
                "--master-key",
                self.KEY,
                "--no-analytics",
                "--dump-dir",
                str(self.data / "dumps"),
                "--snapshot-dir",
                str(self.data / "snapshots"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.data / "meili.log").open("ab"),
        )
        client = self.client()

        def healthy() -> bool:
            try:
                return bool(client.is_healthy())
            except Exception:
                return False

        wait_for(healthy, 30, "private Meilisearch to start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    def client(self) -> meilisearch.Client:
        return meilisearch.Client(self.url, self.KEY, timeout=30)
