"""In-memory stand-ins for the consumer loop's collaborators (`cdc_sync/consumer/interfaces.py`).

Each fake implements only the narrow interface the loop uses, with the behaviour
the real adapter documents: a group member that serves rebalance callbacks inside
`consume` and waits out its timeout when nothing is there (on the fake clock), a
Meilisearch that runs an index's tasks in the order they were enqueued unless told
otherwise, a producer whose records count only after `flush`. The state store is the
real one, on an in-memory SQLite database.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from cdc_sync.config import Settings, TableSettings
from cdc_sync.consumer.dlq import DeadLetterQueue
from cdc_sync.consumer.interfaces import OnPartitions
from cdc_sync.consumer.service import ConsumerService
from cdc_sync.consumer.writer import Writer
from cdc_sync.errors import TransientError
from cdc_sync.events.encode import encode_key, encode_value
from cdc_sync.events.model import ChangeEvent
from cdc_sync.kafka.consumer import MemberFenced
from cdc_sync.kafka.producer import DeliveryFailed, Headers
from cdc_sync.kafka.reader import Record
from cdc_sync.kafka.types import Partition, Received
from cdc_sync.sink.http import TaskOutcome
from cdc_sync.state.store import StateStore
from cdc_sync.state.truncates import Barrier, TruncateLog


class FakeClock:
    """Monotonic seconds that move only when someone waits (starts far from 0, as a real one)."""

    def __init__(self, now: float = 10_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


# -- Kafka


class FakeBroker:
    """Topics, one group's committed offsets and its members."""

    def __init__(self, clock: FakeClock, topics: dict[str, int]) -> None:
        self.clock = clock
        self.logs: dict[Partition, list[Received]] = {
            Partition(topic, n): [] for topic, count in topics.items() for n in range(count)
        }
        self.committed: dict[Partition, int] = {}
        self.members: list[FakeConsumer] = []
        self.on_commit: Callable[[Partition, int], None] = lambda partition, offset: None

    def produce(self, partition: Partition, key: bytes | None, value: bytes | None) -> int:
        log = self.logs[partition]
        log.append(Received(partition, len(log), key, value, 1_700_000_000_000))
        return len(log) - 1

    def new_member(self) -> FakeConsumer:
        member = FakeConsumer(self)
        self.members.append(member)
        return member

    def move(self, partitions: list[Partition], to: FakeConsumer) -> None:
        """A rebalance: the partitions' owners are told at their next `consume`."""
        for member in self.members:
            if member is not to and (gone := [p for p in partitions if p in member.owned]):
                member.rebalances.append(("revoke", gone))
        to.rebalances.append(("assign", partitions))

    def end(self, partition: Partition) -> int:
        return len(self.logs[partition])


class FakeConsumer:
    """`GroupConsumer` on a `FakeBroker`."""

    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker
        self.owned: set[Partition] = set()
        self.positions: dict[Partition, int] = {}
        self.paused: set[Partition] = set()
        self.rebalances: deque[tuple[str, list[Partition]]] = deque()
        self.callbacks: tuple[OnPartitions, OnPartitions] | None = None
        self.consumes = 0
        self.consumes_while_all_paused = 0
        self.commit_failures = 0
        self.fenced = False
        self.closed = False

    def subscribe(
        self, topics: list[str], on_assign: OnPartitions, on_revoke: OnPartitions
    ) -> None:
        """The first member to subscribe gets every partition of its topics."""
        self.callbacks = (on_assign, on_revoke)
        if not any(m.owned or m.rebalances for m in self.broker.members if m is not self):
            self.rebalances.append(("assign", [p for p in self.broker.logs if p.topic in topics]))

    def consume(self, num: int, timeout_s: float) -> list[Received]:
        if self.fenced:
            raise MemberFenced("kafka consumer: fenced (fake)")
        self.consumes += 1
        if self.owned and self.owned <= self.paused:
            self.consumes_while_all_paused += 1
        self._serve_rebalances()
        out: list[Received] = []
        for partition in sorted(self.owned - self.paused):
            log, at = self.broker.logs[partition], self.positions[partition]
            taken = log[at : at + num - len(out)]
            out += taken
            self.positions[partition] = at + len(taken)
        if not out:
            self.broker.clock.sleep(timeout_s)  # nothing arrived: the wait ran out
        return out

    def _serve_rebalances(self) -> None:
        assert self.callbacks is not None
        on_assign, on_revoke = self.callbacks
        while self.rebalances:
            kind, partitions = self.rebalances.popleft()
            if kind == "revoke":
                on_revoke(partitions)  # called while the partitions are still ours
                self.owned -= set(partitions)
                continue
            self.owned |= set(partitions)
            for partition in partitions:
                self.positions[partition] = self.broker.committed.get(partition, 0)
            on_assign(partitions)

    def pause(self, partitions: Iterable[Partition]) -> None:
        self.paused |= set(partitions)

    def resume(self, partitions: Iterable[Partition]) -> None:
        self.paused -= set(partitions)

    def seek(self, partition: Partition, offset: int) -> None:
        assert partition in self.owned, f"seek on {partition}, not assigned"
        self.positions[partition] = offset

    def commit(self, offsets: dict[Partition, int]) -> None:
        if self.commit_failures:
            self.commit_failures -= 1
            raise TransientError("kafka commit failed: coordinator moving (fake)")
        for partition, offset in offsets.items():
            self.broker.on_commit(partition, offset)
            self.broker.committed[partition] = offset

    def committed(self, partitions: Iterable[Partition]) -> dict[Partition, int | None]:
        return {p: self.broker.committed.get(p) for p in partitions}

    def watermarks(self, partitions: Iterable[Partition]) -> dict[Partition, tuple[int, int]]:
        return {p: (0, self.broker.end(p)) for p in partitions}

    def fetched_high(self, partition: Partition) -> int | None:
        return self.broker.end(partition) if partition in self.owned else None

    def partitions_of(self, topics: Iterable[str]) -> list[Partition]:
        wanted = set(topics)
        return [p for p in self.broker.logs if p.topic in wanted]

    def close(self) -> None:
        self.closed = True


class FakeReader:
    def __init__(self, log: list[Received]) -> None:
        self.log = log

    def read(self, offset: int, end: int) -> list[Record]:
        return [_record(r) for r in self.log[offset : min(end, offset + 50)]]

    def close(self) -> None:
        pass


class FakeReads:
    """`RecordReads`: the broker's records read again by offset."""

    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker

    def records_at(self, partition: Partition, offsets: Iterable[int]) -> dict[int, Record]:
        log = self.broker.logs[partition]
        return {o: _record(log[o]) for o in offsets if o < len(log)}

    def reader(self, partition: Partition) -> FakeReader:
        return FakeReader(self.broker.logs[partition])


def _record(r: Received) -> Record:
    return Record(r.partition.topic, r.partition.partition, r.offset, r.key, r.value)


class FakeProducer:
    """`RecordProducer`: records are delivered by `flush` (which may be told to fail)."""

    def __init__(self) -> None:
        self.queued: list[tuple[bytes | None, Headers | None]] = []
        self.delivered: list[tuple[bytes | None, Headers | None]] = []
        self.flush_failures = 0
        self.closed = False

    def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None = None
    ) -> None:
        self.queued.append((key, headers))

    def flush(self) -> None:
        if self.flush_failures:
            self.flush_failures -= 1
            self.queued.clear()  # lost: the queue sends them again
            raise DeliveryFailed(["cdc-sync.dlq: broker down (fake)"])
        self.delivered += self.queued
        self.queued.clear()

    def close(self) -> None:
        self.closed = True

    def header(self, name: str) -> list[str]:
        return [str(dict(h or [])[name]) for _, h in self.delivered]


# -- Meilisearch


@dataclass
class FakeTask:
    uid: int
    index: str
    kind: str
    body: Any
    status: str = "enqueued"
    error: dict[str, Any] | None = None


@dataclass
class FakeSink:
    """`SinkApi`: an index per uid, documents by id; tasks run when `run_tasks` is called
    (by default at each status poll) in enqueue order, or a random subset of them."""

    clock: Callable[[], float] = lambda: 0.0
    rng: random.Random | None = None
    working: bool = True
    busy_until: float = 0.0
    """Tasks wait (enqueued) until the clock reaches this."""
    indexes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tasks: dict[int, FakeTask] = field(default_factory=dict)
    enqueue_failures: deque[Exception] = field(default_factory=deque)
    on_enqueue_failure: Callable[[], None] = lambda: None
    task_failures: deque[dict[str, Any]] = field(default_factory=deque)
    enqueued = 0
    closed = False

    def _enqueue(self, index: str, kind: str, body: Any) -> int:
        if self.enqueue_failures:
            self.on_enqueue_failure()
            raise self.enqueue_failures.popleft()
        uid = self.enqueued
        self.enqueued += 1
        self.tasks[uid] = FakeTask(uid, index, kind, body)
        return uid

    def add_documents(self, index: str, payload: bytes, primary_key: str, *, replace: bool) -> int:
        documents = {d[primary_key]: d for d in orjson.loads(payload)}
        return self._enqueue(index, "replace" if replace else "update", documents)

    def delete_documents(self, index: str, ids: Iterable[str | int]) -> int:
        return self._enqueue(index, "delete", [str(i) for i in ids])

    def delete_all_documents(self, index: str) -> int:
        return self._enqueue(index, "clear", None)

    def finished_tasks(self, uids: Iterable[int]) -> list[TaskOutcome]:
        if self.working and self.clock() >= self.busy_until:
            self.run_tasks()
        found = (self.tasks[uid] for uid in uids)
        return [TaskOutcome(t.uid, t.status, t.error) for t in found if t.status != "enqueued"]

    def run_tasks(self) -> None:
        waiting = [t for t in self.tasks.values() if t.status == "enqueued"]
        if self.rng is not None:  # some, out of order: stricter than Meilisearch
            waiting = self.rng.sample(waiting, self.rng.randint(0, len(waiting)))
        for task in waiting:
            self._run(task)

    def _run(self, task: FakeTask) -> None:
        if self.task_failures:
            task.status, task.error = "failed", self.task_failures.popleft()
            return
        documents = self.indexes.setdefault(task.index, {})
        if task.kind == "clear":
            documents.clear()
        elif task.kind == "delete":
            for doc_id in task.body:
                documents.pop(doc_id, None)
        elif task.kind == "replace":
            documents.update(task.body)
        else:
            for doc_id, document in task.body.items():
                documents[doc_id] = {**documents.get(doc_id, {}), **document}
        task.status = "succeeded"

    def ids(self, index: str) -> set[str]:
        return set(self.indexes.get(index, {}))

    def close(self) -> None:
        self.closed = True


class FlakyRegistry:
    """An Avro decoder whose schema registry does not answer the first `failures` times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    def __call__(self, data: bytes) -> Any:
        if self.failures:
            self.failures -= 1
            raise TransientError("schema registry: HTTP 503 (fake)")
        return orjson.loads(data[5:])


class FakeMember:
    """`GroupIdentity` without static membership."""

    instance_id: str | None = None
    released = False

    def release(self) -> None:
        self.released = True


# -- the world the loop runs in, and records in our relay's format


TABLE = TableSettings(name="T", schema="APP", primary_key=["ID"], index="t")  # type: ignore[call-arg]
TOPIC = "cdc.APP.T"


def settings(**consumer: Any) -> Settings:
    limits = {"batch_size": 10, "linger_ms": 0, "shutdown_timeout_s": 2.0, **consumer}
    return Settings(
        source={"url": "sqlite://"},  # type: ignore[arg-type]
        kafka={"bootstrap_servers": "fake:9092", "group_instance_id": ""},  # type: ignore[arg-type]
        meilisearch={"url": "http://fake:7700"},  # type: ignore[arg-type]
        consumer=limits,  # type: ignore[arg-type]
        tables=[TABLE],
    )


class World:
    """One broker, Meilisearch, state store and dead-letter topic; any number of consumers."""

    def __init__(self, partitions: int = 2, sink: FakeSink | None = None, **consumer: Any) -> None:
        self.clock = FakeClock()
        self.settings = settings(**consumer)
        self.broker = FakeBroker(self.clock, {TOPIC: partitions})
        self.sink = sink or FakeSink()
        self.sink.clock = self.clock
        self.producer = FakeProducer()
        self.store = StateStore("sqlite://")
        self.members: list[FakeMember] = []
        self.avro: FlakyRegistry | None = None

    def partition(self, n: int) -> Partition:
        return Partition(TOPIC, n)

    def consumer(self) -> ConsumerService:
        member = FakeMember()
        self.members.append(member)
        limits = self.settings.consumer
        return ConsumerService(
            self.settings,
            new_consumer=self.broker.new_member,
            writer=Writer(self.sink, limits),
            dead_letters=DeadLetterQueue(self.producer, "cdc-sync.dlq", limits),
            state=self.store,
            truncates=TruncateLog(self.store, self.settings.kafka.group_id),
            reads=FakeReads(self.broker),
            member=member,
            avro=self.avro,
            clock=self.clock,
            sleep=self.clock.sleep,
        )

    def row(self, partition: int, doc_id: int, change_id: int | None = None) -> int:
        event = ChangeEvent(
            op="c",
            key={"ID": doc_id},
            after={"ID": doc_id, "TITLE": f"row {doc_id}"},
            table="APP.T",
            change_id=change_id,
        )
        value = encode_value(event, 1_700_000_000_000)
        return self.broker.produce(self.partition(partition), encode_key({"ID": doc_id}), value)

    def truncate(self, partition: int, change_id: int) -> int:
        event = ChangeEvent(op="t", key={}, table="APP.T", change_id=change_id)
        value = encode_value(event, 1_700_000_000_000)
        return self.broker.produce(self.partition(partition), None, value)

    def avro_row(self, partition: int, doc_id: int) -> int:
        """A row image in the Confluent wire format (its body JSON here: `FlakyRegistry`)."""
        envelope = {"before": None, "after": {"ID": doc_id}, "source": {}, "op": "c"}
        value = b"\x00\x00\x00\x00\x07" + orjson.dumps(envelope)
        return self.broker.produce(self.partition(partition), encode_key({"ID": doc_id}), value)

    def garbage(self, partition: int) -> int:
        return self.broker.produce(self.partition(partition), b'{"ID": 1}', b"not json")

    def store_barrier(self) -> Barrier | None:
        return TruncateLog(self.store, self.settings.kafka.group_id).barriers().get("APP.T")

    def committed_to_end(self) -> bool:
        return all(
            self.broker.committed.get(p, 0) >= len(log) for p, log in self.broker.logs.items()
        )


def kafka_of(service: ConsumerService) -> FakeConsumer:
    """The fake group member a loop was given."""
    assert isinstance(service.kafka, FakeConsumer)
    return service.kafka


def run_until(
    condition: Callable[[], bool], *services: ConsumerService, steps: int = 2_000
) -> None:
    """Turn the loops (in the order given) until `condition` holds."""
    for _ in range(steps):
        if condition():
            return
        for service in services:
            service.run_once()
    raise AssertionError(f"not reached within {steps} loop turns")
