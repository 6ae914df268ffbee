"""The consumer loop's guarantees, pinned where they are implemented: `ConsumerService` over
in-memory collaborators (tests/unit/consumer_fakes.py), driven by a fake clock.

The same guarantees against the real Kafka and Meilisearch: tests/integration/test_consumer_*.py
and tests/faults/test_consumer_*.py.
"""

from __future__ import annotations

import logging
import random
import re
from collections import deque

import pytest

from cdc_sync.errors import TransientError
from cdc_sync.events.encode import encode_key, encode_value
from cdc_sync.events.model import ChangeEvent
from cdc_sync.kafka.types import Partition
from tests.unit.consumer_fakes import FakeSink, FlakyRegistry, World, kafka_of, run_until

INDEX = "t"


def dead_lettered(world: World) -> set[tuple[int, int]]:
    """(partition, offset) of every record whose dead letter Kafka confirmed."""
    partitions = world.producer.header("cdc.original.partition")
    offsets = world.producer.header("cdc.original.offset")
    return {(int(p), int(o)) for p, o in zip(partitions, offsets, strict=True)}


def assert_applied_before(
    world: World, docs: dict[tuple[int, int], str], p: Partition, end: int
) -> None:
    applied, lettered = world.sink.ids(INDEX), dead_lettered(world)
    for offset in range(end):
        doc_id = docs.get((p.partition, offset))
        done = (p.partition, offset) in lettered if doc_id is None else doc_id in applied
        assert done, f"commit of {p}@{end} passes offset {offset}, not applied nor dead-lettered"


@pytest.mark.parametrize("seed", range(6))
def test_commit_never_passes_an_unapplied_offset(seed: int) -> None:
    """A committed offset O means every record of its partition before O is applied in
    Meilisearch (its task succeeded) or dead-lettered (delivery confirmed) — SPEC §6 —
    whichever order the tasks of several partitions and flights finish in."""
    rng = random.Random(seed)
    world = World(partitions=3, sink=FakeSink(rng=rng), batch_size=7, max_tasks_in_flight=4)
    docs: dict[tuple[int, int], str] = {}
    commits: list[tuple[Partition, int]] = []

    def check(partition: Partition, offset: int) -> None:
        assert_applied_before(world, docs, partition, offset)
        commits.append((partition, offset))

    world.broker.on_commit = check
    service = world.consumer()
    service.start()
    for i in range(300):  # arriving while the loop runs
        n = rng.randrange(3)
        if rng.random() < 0.05:
            world.garbage(n)  # dead-lettered: decode_error
        else:
            docs[(n, world.row(n, i))] = str(i)
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            service.run_once()
    run_until(world.committed_to_end, service)
    assert len(commits) > 6  # committed along the way, not only at the end
    assert world.sink.ids(INDEX) == set(docs.values())


def test_a_partition_revoked_mid_flight_is_settled_and_committed_before_it_goes() -> None:
    """On a rebalance, the revoked partitions' tasks in flight are waited for (up to
    consumer.shutdown_timeout_s) and their offsets committed before the partitions go,
    so the next owner starts after them instead of applying them again."""
    world = World(partitions=2)
    first = world.consumer()
    first.start()
    for i in range(20):
        world.row(0, i)
    world.sink.busy_until = world.clock.now + 1.0  # Meilisearch takes a second
    run_until(lambda: bool(first.writer.tasks) and not first.partitions.open, first)
    second = world.consumer()
    second.start()
    p0 = world.partition(0)
    world.broker.move([p0], to=kafka_of(second))
    first.run_once()  # the revoke is served inside this turn's poll
    assert world.broker.committed[p0] == 20
    assert not first.writer.tasks
    run_until(lambda: p0 in second.partitions.trackers, second)
    second.run_once()
    assert second.stats.received == 0  # nothing to read again


def test_a_flight_that_does_not_finish_in_time_is_abandoned_uncommitted() -> None:
    """A revoked partition's tasks that do not finish within consumer.shutdown_timeout_s are
    abandoned: their offsets are never committed, and the next owner reads them again."""
    world = World(partitions=2)
    first = world.consumer()
    first.start()
    for i in range(20):
        world.row(0, i)
    world.sink.busy_until = world.clock.now + 1_000.0
    run_until(lambda: bool(first.writer.tasks) and not first.partitions.open, first)
    second = world.consumer()
    second.start()
    p0 = world.partition(0)
    world.broker.move([p0], to=kafka_of(second))
    started = world.clock.now
    first.run_once()
    assert world.clock.now - started == pytest.approx(2.0, abs=0.2)  # shutdown_timeout_s
    assert world.broker.committed.get(p0) is None
    assert not first.writer.tasks and p0 not in first.partitions.trackers
    world.sink.busy_until = 0.0
    run_until(world.committed_to_end, second)
    assert second.stats.received == 20
    assert world.sink.ids(INDEX) == {str(i) for i in range(20)}


def test_a_partition_revoked_while_its_batch_is_retried_is_abandoned_at_once() -> None:
    """A rebalance that arrives while the writer waits to retry (it keeps polling Kafka,
    which serves the rebalance) abandons the revoked partition's batch without waiting:
    the retries stop and nothing of it is committed."""
    world = World(partitions=1)
    first, second = world.consumer(), world.consumer()
    first.start()
    second.start()
    p0 = world.partition(0)
    run_until(lambda: p0 in first.partitions.trackers, first)
    for i in range(5):
        world.row(0, i)
    world.sink.enqueue_failures.extend(TransientError("meilisearch HTTP 503") for _ in range(100))
    moves = deque([p0])

    def rebalance_once() -> None:  # while the writer waits to retry
        if moves:
            world.broker.move([moves.popleft()], to=kafka_of(second))

    world.sink.on_enqueue_failure = rebalance_once
    run_until(lambda: p0 not in first.partitions.trackers, first)
    assert 90 < len(world.sink.enqueue_failures) < 100  # it stopped retrying at once
    assert not first.writer.tasks and not first.writer.flights
    assert world.broker.committed.get(p0) is None
    world.sink.enqueue_failures.clear()
    run_until(world.committed_to_end, second)
    assert world.sink.ids(INDEX) == {str(i) for i in range(5)}


def test_an_enqueue_that_fails_then_succeeds_commits_only_after_it_succeeded() -> None:
    """Transient faults (Meilisearch 5xx, unreachable) are retried with backoff while the
    loop keeps polling Kafka with every partition paused; offsets do not move until the
    batch is applied, and each retry, the first one too, waits its turn and is counted."""
    world = World(partitions=2)
    docs = {(i % 2, world.row(i % 2, i)): str(i) for i in range(30)}
    world.broker.on_commit = lambda p, o: assert_applied_before(world, docs, p, o)
    world.sink.enqueue_failures.extend(TransientError("meilisearch HTTP 503") for _ in range(3))
    service = world.consumer()
    service.start()
    started = world.clock.now
    run_until(world.committed_to_end, service)
    assert service.stats.retries == 3
    assert world.clock.now - started >= 0.2 + 0.4 + 0.8  # 0.2 s doubling (plus jitter)
    member = kafka_of(service)
    assert member.consumes_while_all_paused > 0
    assert world.sink.ids(INDEX) == set(docs.values())
    assert not member.paused  # resumed once the batch went


def test_a_task_that_fails_then_succeeds_is_resent_and_committed() -> None:
    """A task that fails for a reason that says nothing about its documents (Meilisearch's
    `internal`, `io_error`, ...) is sent again; nothing is dead-lettered, and the offsets
    are committed once the resent task succeeded."""
    world = World(partitions=1)
    docs = {(0, world.row(0, i)): str(i) for i in range(8)}
    world.broker.on_commit = lambda p, o: assert_applied_before(world, docs, p, o)
    world.sink.task_failures.append({"code": "internal", "message": "disk hiccup"})
    service = world.consumer()
    service.start()
    run_until(world.committed_to_end, service)
    assert world.sink.ids(INDEX) == set(docs.values())
    assert service.stats.retries == 1 and not world.producer.delivered
    assert [t.status for t in world.sink.tasks.values()] == ["failed", "succeeded"]


@pytest.mark.parametrize("seed", range(8))
def test_a_truncate_clears_in_source_order_across_partitions_and_consumers(seed: int) -> None:
    """A truncate at position T read on one partition clears exactly the documents whose last
    event is before T, whichever consumer read which partition first (docs/truncates.md): the
    clear-all is enqueued once every partition is aligned, and what comes after T in any
    partition is applied after it."""
    rng = random.Random(seed)
    world = World(partitions=2)
    a, b = world.consumer(), world.consumer()
    a.start()
    b.start()
    p0, p1 = world.partition(0), world.partition(1)
    run_until(lambda: set(a.partitions.trackers) == {p0, p1}, a)
    world.broker.move([p1], to=kafka_of(b))
    run_until(lambda: p1 in b.partitions.trackers and p1 not in a.partitions.trackers, a, b)
    for doc_id, change_id in ((10, 3), (11, 4), (12, 7)):
        world.row(1, doc_id, change_id)
    run_until(world.committed_to_end, b)  # partition 1 applied before the truncate is read
    assert world.sink.ids(INDEX) == {"10", "11", "12"}
    world.row(0, 1, change_id=1)
    world.row(0, 2, change_id=2)
    world.truncate(0, change_id=5)
    world.row(0, 3, change_id=6)

    def settled() -> bool:
        barrier = world.store_barrier()
        return world.committed_to_end() and barrier is not None and barrier.status == "enqueued"

    for _ in range(2_000):
        if settled():
            break
        rng.choice((a, b)).run_once()
    assert settled()
    run_until(lambda: not a.writer.tasks and not b.writer.tasks, a, b)
    assert world.sink.ids(INDEX) == {"3", "12"}


def test_shutdown_waits_for_tasks_in_flight_and_commits_them() -> None:
    """SIGTERM: stop fetching, wait (at most consumer.shutdown_timeout_s) for the tasks in
    flight, commit what is applied, and close every collaborator."""
    world = World(partitions=2)
    service = world.consumer()
    service.start()
    for i in range(30):
        world.row(i % 2, i)
    world.sink.busy_until = world.clock.now + 1.0
    run_until(lambda: bool(service.writer.tasks) and not service.partitions.open, service)
    service.stop()
    service.shutdown()
    assert world.committed_to_end()
    member = kafka_of(service)
    assert member.closed and member.paused == member.owned
    assert world.members[0].released and world.producer.closed and world.sink.closed


def test_shutdown_is_bounded_and_commits_only_what_is_applied() -> None:
    """Tasks that do not finish within consumer.shutdown_timeout_s are abandoned: shutdown
    returns in bounded time and commits only the records applied before them."""
    world = World(partitions=1)
    service = world.consumer()
    service.start()
    docs = {(0, world.row(0, i)): str(i) for i in range(10)}
    run_until(world.committed_to_end, service)
    world.sink.busy_until = world.clock.now + 1_000.0
    for i in range(10, 20):
        world.row(0, i)
    run_until(lambda: bool(service.writer.tasks) and not service.partitions.open, service)
    started = world.clock.now
    service.stop()
    service.shutdown()
    assert world.clock.now - started <= 2.0 + 0.1
    assert world.broker.committed[world.partition(0)] == 10
    assert world.sink.ids(INDEX) == set(docs.values())


def test_backpressure_pauses_partitions_and_resumes_them() -> None:
    """With consumer.max_tasks_in_flight tasks unfinished, full batches wait and their
    partitions are paused while polling goes on (so the group keeps the member); they are
    resumed once Meilisearch catches up, and everything is applied."""
    world = World(partitions=2, batch_size=5, max_tasks_in_flight=2)
    service = world.consumer()
    service.start()
    world.sink.working = False
    for i in range(200):  # a burst
        world.row(i % 2, i)
        if i % 10 == 0:
            service.run_once()
    member = kafka_of(service)
    assert len(service.writer.tasks) == 2
    assert member.paused == member.owned == {world.partition(0), world.partition(1)}
    polls = member.consumes
    service.run_once()
    assert member.consumes == polls + 1 and member.consumes_while_all_paused > 0
    received = service.stats.received
    assert received < 200  # paused: the rest stays in Kafka
    world.sink.working = True
    run_until(world.committed_to_end, service)
    assert not member.paused
    assert world.sink.ids(INDEX) == {str(i) for i in range(200)}


def test_a_full_buffer_pauses_every_partition() -> None:
    """Past consumer.max_buffered_bytes in flight and waiting, every partition is paused,
    whatever the task count: memory stays bounded whatever the backlog."""
    world = World(partitions=2, batch_size=1000, max_buffered_bytes=4096, linger_ms=10_000)
    for i in range(200):
        world.row(i % 2, i)
    service = world.consumer()
    service.start()
    world.sink.working = False
    for _ in range(10):
        service.run_once()
    member = kafka_of(service)
    assert member.paused == member.owned
    assert service.stats.buffered_bytes >= 4096
    world.sink.working = True
    run_until(world.committed_to_end, service)
    assert not member.paused


def test_until_caught_up_ends_once_the_group_committed_the_end_offsets_seen_at_start() -> None:
    """`consume --until-caught-up` drains to the end offsets seen at start and exits, with
    every collaborator closed; records produced after the start are not waited for."""
    world = World(partitions=2)
    for i in range(40):
        world.row(i % 2, i)
    service = world.consumer()
    world.row(0, 99)  # after the service was built, before it started: counted
    service.run(until_caught_up=True)
    assert world.committed_to_end()
    assert world.sink.ids(INDEX) == {*map(str, range(40)), "99"}
    assert kafka_of(service).closed and world.sink.closed


def test_a_fenced_table_waits_until_bootstrap_lifts_the_fence() -> None:
    """While bootstrap fences a table, its batches wait in order and nothing of them is
    committed; once the fence is lifted they go (docs/bootstrap.md)."""
    world = World(partitions=1)
    world.store.set_fence("APP.T", "bootstrap-1", ttl_s=600)
    service = world.consumer()
    service.start()
    for i in range(25):
        world.row(0, i)
    for _ in range(30):
        service.run_once()
    assert world.sink.enqueued == 0 and world.broker.committed.get(world.partition(0)) is None
    assert service.stats.received == 25
    world.store.clear_fence("APP.T")
    run_until(world.committed_to_end, service)
    assert world.sink.ids(INDEX) == {str(i) for i in range(25)}


def test_bad_records_are_dead_lettered_with_their_code_and_the_stream_goes_on() -> None:
    """Each record we cannot apply goes to the dead-letter topic with its error's code (the
    `cdc.error.code` header and the metrics label; the same codes as
    tests/integration/test_consumer_service.py::test_poison_records_go_to_the_dead_letter_topic_with_reasons
    on the real stack), its reason and its place, and the records after it are applied."""
    world = World(partitions=1)
    p0 = world.partition(0)
    world.garbage(0)
    null_key = ChangeEvent(op="c", key={"ID": None}, after={"ID": None}, table="APP.T")
    world.broker.produce(p0, b'{"ID": null}', encode_value(null_key, 1))
    keyless = ChangeEvent(op="c", key={}, after={"TITLE": "no key"}, table="APP.T")
    world.broker.produce(p0, None, encode_value(keyless, 1))
    nested = {"ID": 7, "DATA": {f"k{i}": i for i in range(65_536)}}  # fields count flattened
    wide = ChangeEvent(op="c", key={"ID": 7}, after=nested)
    world.broker.produce(p0, encode_key({"ID": 7}), encode_value(wide, 1))
    world.row(0, 8)
    service = world.consumer()
    service.start()
    run_until(world.committed_to_end, service)
    assert world.producer.header("cdc.error.code") == [
        "decode_error",
        "invalid_key",
        "mapping_error",
        "max_fields_limit_exceeded",
    ]
    assert world.producer.header("cdc.original.offset") == ["0", "1", "2", "3"]
    assert world.sink.ids(INDEX) == {"8"}


def test_a_schema_registry_that_does_not_answer_holds_the_record_and_all_after_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An Avro record whose schema the registry does not give waits, with every record after
    it and every partition paused while Kafka is still polled; nothing is committed past it.
    Each wait is the common backoff (0.2 s doubling, plus up to 1 s of jitter), logged and
    counted; once the registry answers, everything is applied."""
    world = World(partitions=2)
    world.avro = FlakyRegistry(failures=3)
    docs = {(0, world.avro_row(0, 1)): "1", (0, world.row(0, 2)): "2", (1, world.row(1, 3)): "3"}
    world.broker.on_commit = lambda p, o: assert_applied_before(world, docs, p, o)
    service = world.consumer()
    service.start()
    with caplog.at_level(logging.WARNING, logger="cdc_sync.consumer.service"):
        run_until(world.committed_to_end, service)
    assert world.sink.ids(INDEX) == {"1", "2", "3"}
    assert service.stats.retries == 3
    assert kafka_of(service).consumes_while_all_paused > 0
    waits = [float(w) for w in re.findall(r"retrying in ([\d.]+)s", caplog.text)]
    assert len(waits) == 3
    assert all(w >= floor for w, floor in zip(waits, (0.2, 0.4, 0.8), strict=True)), waits


def test_records_that_change_no_row_are_skipped_counted_and_committed() -> None:
    """A Debezium heartbeat (`{"ts_ms": …}` alone, Debezium's Heartbeat schema) on a table's
    topic changes no row: it is counted as skipped, never dead-lettered, and its offset is
    committed with the records around it."""
    world = World(partitions=1)
    p0 = world.partition(0)
    world.row(0, 1)
    world.broker.produce(p0, b'{"serverName": "cdc"}', b'{"ts_ms": 1700000000000}')
    world.row(0, 2)
    service = world.consumer()
    service.start()
    run_until(world.committed_to_end, service)
    assert service.stats.skipped == 1 and not world.producer.delivered
    assert world.sink.ids(INDEX) == {"1", "2"}
