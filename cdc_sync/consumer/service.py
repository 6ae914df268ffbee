"""The consumer loop (arroyo's ``run_once`` shape): fetch, map, batch, write, commit.

One thread. Each iteration takes what Kafka has, maps it into per-partition
batches, sends due batches while Meilisearch has room (otherwise pauses their
partitions; polling goes on so the group keeps us), collects finished tasks and
commits, per partition, the offset after the contiguous done prefix.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import random
import re
import time
from collections import deque
from collections.abc import Callable

from cdc_sync.config import Settings, TableSettings
from cdc_sync.consumer.backpressure import (
    DRAINING_TASK_POLL_S,
    LIGHT_TASK_POLL_S,
    partitions_to_pause,
    task_poll_interval,
    waits_to_fill,
)
from cdc_sync.consumer.batch import PartitionBatch
from cdc_sync.consumer.dlq import DeadLetter, DeadLetterQueue, letters_for
from cdc_sync.consumer.flights import Flight
from cdc_sync.consumer.offsets import OffsetTracker
from cdc_sync.consumer.skipped import SkippedRecords
from cdc_sync.consumer.stats import ConsumerStats
from cdc_sync.consumer.truncates import DONE, Barriers, rewind_offset
from cdc_sync.consumer.writer import Abandoned, Writer
from cdc_sync.documents.mapping import Upsert, operation_for_event, operation_for_row
from cdc_sync.errors import DependencyUnavailable, TerminalError, TransientError
from cdc_sync.events.decode import DecodeError, NotARowChange, decode_record, relay_row
from cdc_sync.events.model import ChangeEvent
from cdc_sync.events.position import Position, position_of
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.kafka.consumer import KafkaConsumer, MemberFenced
from cdc_sync.kafka.membership import static_member
from cdc_sync.kafka.producer import Producer
from cdc_sync.kafka.reader import read_offsets
from cdc_sync.kafka.registry import avro_reader
from cdc_sync.kafka.types import Partition, Received
from cdc_sync.ops import metrics
from cdc_sync.sink.http import SinkHttp
from cdc_sync.sink.indexes import ensure_index
from cdc_sync.sink.meili import meili_client
from cdc_sync.sink.validate import InvalidDocument, check_document
from cdc_sync.state.store import FENCE_POLL_S, StateStore, StateStoreUnavailable
from cdc_sync.state.truncates import Barrier, TruncateLog

log = logging.getLogger(__name__)

MAX_FENCES, FENCE_WINDOW_S = 3, 300.0
"""Fenced more often than this (another process really shares our group.instance.id): stop."""
COMMIT_INTERVAL_S = 0.2
LIGHT_BYTES_IN_FLIGHT = 1024 * 1024
"""Below this (about 2,000 small documents) in flight, traffic counts as light."""
TASK_POLL_S = 0.05
LAG_INTERVAL_S = 5.0
CAUGHT_UP_POLL_S = 0.1


def error_code(exc: Exception) -> str:
    """``MappingError`` → ``mapping_error``: the dead-letter header value."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


class ConsumerService:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.limits = settings.consumer
        self.clock = clock
        self.tables: dict[str, TableSettings] = {settings.topic_of(t): t for t in settings.tables}
        self.stats = ConsumerStats()
        self.skipped = SkippedRecords(self.stats)
        self.state = StateStore(settings.state.url)  # waits for the store at start, then:
        self.state.retry_s = 0.0  # the loop holds every table while the store is away
        self.member = static_member(settings.kafka.group_id, settings.kafka.group_instance_id)
        self.kafka = KafkaConsumer(settings.kafka, instance_id=self.member.instance_id)
        self.client = meili_client(settings.meilisearch)
        self.sink = SinkHttp(settings.meilisearch)
        self.writer = Writer(self.sink, self.limits, self._idle, self._note_retry, self._stopping)
        self.dlq = DeadLetterQueue(
            Producer(settings.kafka), settings.kafka.dead_letter_topic, self.limits
        )
        self.trackers: dict[Partition, OffsetTracker] = {}
        self.open: dict[Partition, PartitionBatch] = {}
        self.held: dict[Partition, deque[PartitionBatch]] = {}
        self.paused: set[Partition] = set()
        self.backlog: list[Received] = []
        self.targets: dict[Partition, int] | None = None
        # While fewer tasks than this are in flight, traffic is light: batches go at once.
        self._eager_tasks = max(1, self.limits.max_tasks_in_flight // 4)
        self._poll_s = LIGHT_TASK_POLL_S
        self._stop = False
        self._closing = False
        self._busy = False  # inside the writer: a rebalance then abandons instead of settling
        self._fenced: set[str] = set()
        self._store_lost = False  # fences unknown: every table's writes are held
        self._times = {"fence": -1e9, "commit": 0.0, "tasks": 0.0, "lag": 0.0, "caught": 0.0}
        self._times["barriers"] = -1e9
        self.barriers = Barriers(TruncateLog(self.state, settings.kafka.group_id))
        self._last_error_record = 0.0
        self._decode_retries = 0
        self.avro = avro_reader(settings.kafka)
        self._fences: list[float] = []  # when this member was fenced lately

    # -- life cycle

    def prepare(self) -> None:
        """Indexes with their primary key and settings, and the topics, exist before we start."""
        for table in self.settings.tables:
            ensure_index(self.client, table.index_uid, table, self.limits.retry_max_s * 4)
        ensure_topics(self.settings.kafka, [*self.tables, self.settings.kafka.dead_letter_topic])

    def start(self, until_caught_up: bool = False) -> None:
        if until_caught_up:
            self.targets = self._end_offsets()
            log.info("catching up to end offsets of %d partitions", len(self.targets))
        if self.member.instance_id:
            log.info("static group member %s", self.member.instance_id)
        self.kafka.subscribe(list(self.tables), self._on_assign, self._on_revoke)

    def stop(self) -> None:
        self._stop = True

    def run(self, until_caught_up: bool = False) -> None:
        self.prepare()
        # What start-up created lives on: keep it out of the collector's full passes.
        gc.freeze()
        self.start(until_caught_up)
        try:
            while not self._stop:
                try:
                    self.run_once()
                except MemberFenced as exc:
                    self._rejoin(exc)
                    continue
                if self.targets is not None and self._caught_up():
                    log.info("caught up: the group's committed offsets reached the end offsets")
                    break
            self.shutdown()
        except BaseException as exc:
            self._record_error(f"consumer stopped: {exc}", force=True)
            self._closing = True
            self.kafka.close()
            self.member.release()
            raise

    def run_once(self) -> None:
        now = self.clock()
        busy = bool(self.writer.tasks or self.open or any(self.held.values()))
        light = self._light()
        draining = not self.open and not any(self.held.values())
        if light:
            self._poll_s = LIGHT_TASK_POLL_S
        elif draining:
            self._poll_s = min(self._poll_s, DRAINING_TASK_POLL_S)
        next_poll = self._times["tasks"] + self._poll_s
        self._align_partitions(now)
        records, self.backlog = self.backlog, []
        records += self.kafka.consume(1000, max(next_poll - now, 0.001) if busy else 0.5)
        self._intake_all(records, now)
        now = self.clock()
        self._dispatch(now)
        finished = 0
        if now >= next_poll:
            self._times["tasks"] = now
            finished = self._collect()
            self._poll_s = task_poll_interval(self._poll_s, light, finished, draining)
        self._flow_control()
        # catching up, the end is noticed sooner when finished work is committed at once
        self._commit(now, force=finished > 0 and self.targets is not None)
        self._update_stats(now)

    def shutdown(self) -> None:
        """Stop fetching, wait for tasks in flight (bounded), commit what is applied, close."""
        self._closing = True
        self.stats.ready = False
        self.kafka.pause(set(self.trackers) - self.paused)
        deadline = self.clock() + self.limits.shutdown_timeout_s
        while self.writer.tasks and self.clock() < deadline:
            self._collect()
            time.sleep(TASK_POLL_S)
        self._collect()
        self._commit(self.clock(), force=True)
        if self.writer.tasks:
            log.warning("shutdown: abandoned %d unfinished tasks", len(self.writer.tasks))
        self.kafka.close()
        self.member.release()
        self.dlq.producer.close()
        self.sink.close()
        log.info("consumer stopped", extra={"fields": {"stats": self.stats.as_dict()}})

    # -- intake: record → batch entry or dead letter

    def _intake_all(self, records: list[Received], now: float) -> None:
        for index, record in enumerate(records):
            try:
                self._intake(record, now)
            except TransientError as exc:  # the schema registry does not answer
                self.backlog[:0] = records[index:]  # this record first, in order, next time
                self._wait_for_decoder(exc)
                return
        self._decode_retries = 0

    def _wait_for_decoder(self, exc: TransientError) -> None:
        """Back off (polling Kafka, every partition paused); offsets stay where they are."""
        self._decode_retries += 1
        ceiling = min(self.limits.retry_max_s, 0.2 * 2 ** min(self._decode_retries - 1, 16))
        delay = random.uniform(ceiling / 2, ceiling)
        message = f"{exc} (attempt {self._decode_retries}), retrying in {delay:.1f}s"
        log.warning(message)
        self._note_retry(message, cause="schema_registry")
        self._idle(delay)

    def _intake(self, record: Received, now: float) -> None:
        tracker = self.trackers.get(record.partition)
        if tracker is None or (tracker.last is not None and record.offset <= tracker.last):
            return  # not ours any more, or a duplicate fetch
        table = self.tables[record.partition.topic]
        if not self.barriers.view and self._intake_relay_row(record, tracker, table, now):
            return
        failure: DecodeError | None = None
        truncate: Position | None = None
        try:  # a TransientError leaves before the record counts as received: it comes again
            event = decode_record(record.key, record.value, avro=self.avro)
            if event.op == "t":
                truncate = self._announce(table, event)
        except DecodeError as exc:
            failure = exc
        self._received(record, tracker)
        if isinstance(failure, NotARowChange):  # counted; done at once, as a dropped record
            self.skipped.skip(record.partition.topic, table.qualified_name, failure.kind)
            self._mark_done(record.partition, [record.offset])
            return
        if failure is None and (
            truncate is DONE
            or (
                self.barriers.view  # no truncate ever: no further cost per record
                and event.op != "t"
                and self.barriers.drops(table.qualified_name, record.partition, event)
            )
        ):
            self._mark_done(record.partition, [record.offset])  # a truncate after it removes it
            return
        try:
            if failure is not None:
                raise failure
            op = None if event.op == "t" else operation_for_event(table, event)
            if isinstance(op, Upsert):
                check_document(op.document)
        except TerminalError as exc:
            code = exc.code if isinstance(exc, InvalidDocument) else error_code(exc)
            self._dead_letter(DeadLetter(record, code, str(exc)))
            return
        batch = self._open_batch(record.partition, table, now)
        if event.op == "t":
            batch.add_truncate(record.offset, truncate)
        else:
            batch.add(record.offset, op, event.ts_ms)
        self._hold_if_full(batch)

    def _intake_relay_row(
        self, record: Received, tracker: OffsetTracker, table: TableSettings, now: float
    ) -> bool:
        """Our relay's row images (the bulk of the traffic) without building an event:
        False, having done nothing, for any other record (the general path reads it)."""
        found = relay_row(record.key, record.value)
        if found is None:
            return False
        row, ts_ms = found
        try:
            op = operation_for_row(table, row)
            if op is None:
                return False  # the row lacks a key column: the record's key is needed
            if isinstance(op, Upsert):
                check_document(op.document)
        except TerminalError as exc:
            self._received(record, tracker)
            code = exc.code if isinstance(exc, InvalidDocument) else error_code(exc)
            self._dead_letter(DeadLetter(record, code, str(exc)))
            return True
        self._received(record, tracker)
        batch = self._open_batch(record.partition, table, now)
        batch.add(record.offset, op, ts_ms)
        self._hold_if_full(batch)
        return True

    def _received(self, record: Received, tracker: OffsetTracker) -> None:
        if tracker.last is None:
            self.stats.first_offsets.setdefault(str(record.partition), record.offset)
        tracker.received(record.offset)
        self.stats.received += 1

    def _open_batch(self, partition: Partition, table: TableSettings, now: float) -> PartitionBatch:
        batch = self.open.get(partition)
        if batch is None:
            batch = self.open[partition] = PartitionBatch(partition, table, now)
        return batch

    def _hold_if_full(self, batch: PartitionBatch) -> None:
        if batch.is_full(self.limits):
            self.held.setdefault(batch.partition, deque()).append(self.open.pop(batch.partition))

    # -- truncates in order across partitions (docs/truncates.md, consumer/truncates.py)

    def _announce(self, table: TableSettings, event: ChangeEvent) -> Position | None:
        """Announce a truncate; its position, DONE when a barrier already covers it, or None
        when the event does not say where it stands (then it is ordered in its partition only)."""
        position = position_of(event)
        if position is None:
            log.warning(
                "truncate of %s without a source position: ordered within its partition only",
                table.qualified_name,
            )
            return None
        topic = self.settings.topic_of(table)
        partitions = len(self.kafka.partitions_of([topic])) or 1
        barrier = self.barriers.announce(table.qualified_name, position, partitions)
        if barrier.position.comparable(position) and (
            barrier.position > position or barrier.status == "enqueued"
        ):
            return DONE  # a later truncate, or this one already enqueued (read again)
        if not barrier.aligned:  # not when read again after aligning
            log.info("truncate of %s at %s announced", table.qualified_name, position)
        return position

    def _align_partitions(self, now: float) -> None:
        if now - self._times["barriers"] < FENCE_POLL_S:
            return
        self._times["barriers"] = now
        self.barriers.refresh()
        for partition, barrier in self.barriers.to_align(list(self.trackers), self._table_of):
            try:
                self._align(partition, barrier)
            except TransientError as exc:
                log.warning("aligning %s to a truncate: %s (will try again)", partition, exc)

    def _table_of(self, topic: str) -> str:
        return self.tables[topic].qualified_name

    def _align(self, partition: Partition, barrier: Barrier) -> None:
        """Read the partition again from whichever comes first: its first event at or after
        the barrier, or its first record not yet done (unsent or in flight); then ack."""
        tracker = self.trackers[partition]
        committed = tracker.committed
        if committed is None:
            committed = self.kafka.committed([partition]).get(partition)
        low, _ = self.kafka.watermarks([partition])[partition]
        read_to = tracker.last + 1 if tracker.last is not None else (committed or low)
        start = rewind_offset(
            self.settings.kafka, partition, barrier.position, low, read_to, self.avro
        )
        pending = tracker.first_pending
        rewind = min(start, read_to if pending is None else pending)
        log.info(
            "aligning %s to the truncate at %s of %s: reading again from %d (had read to %d)",
            partition,
            barrier.position,
            barrier.table,
            rewind,
            read_to,
        )
        if rewind < read_to:
            self.open.pop(partition, None)
            self.held.pop(partition, None)
            self.writer.abandon([partition])  # their tasks are queued before the clear-all
            self.backlog = [r for r in self.backlog if r.partition != partition]
            self.kafka.seek(partition, rewind)
            self.trackers[partition] = OffsetTracker()
            if committed is not None and rewind < committed:
                self.kafka.commit({partition: rewind})  # so a crash resumes there too
        self.barriers.aligned(partition, barrier)

    def _dead_letter(self, letter: DeadLetter) -> None:
        self.dlq.send(letter)
        self.stats.dead_lettered += 1
        table = self.tables.get(letter.record.partition.topic)
        metrics.events_dead_lettered(table.qualified_name if table else "?", letter.code)

    # -- writing

    def _fenced_tables(self, now: float) -> set[str]:
        if now - self._times["fence"] >= FENCE_POLL_S:
            self._times["fence"] = now
            try:
                self._fenced = {name.upper() for name in self.state.fenced_tables()}
            except StateStoreUnavailable as exc:
                # a bootstrap may have fenced any table meanwhile: hold them all, ask again
                self._fenced = {t.qualified_name.upper() for t in self.tables.values()}
                metrics.retry("consumer", "state_store")
                message = f"{exc}; holding every table's writes until it answers"
                if not self._store_lost:
                    log.warning("%s", message)
                self._store_lost = True
                self._record_error(message)
                return self._fenced
            if self._store_lost:
                log.info("the state store answers again; bootstrap fences are known")
                self._store_lost = False
        return self._fenced

    def _dispatch(self, now: float) -> None:
        """Send full batches in order, then due open ones, while Meilisearch has room.

        While it has none, open batches keep growing up to the batch limits, so
        a backlog goes out in few large tasks rather than many small ones. With
        few tasks of ours in flight, lingering gains nothing (Meilisearch would
        sit idle, and batches the tasks it has not started anyway), so open
        batches go at once: low latency at light traffic, large tasks at heavy.
        A partition with a backlog in Kafka sends full batches only (`waits_to_fill`).
        """
        for partition in list(self.trackers):
            queue = self.held.get(partition)
            while queue and self._send_allowed(queue[0]):
                self._submit(queue.popleft())
            batch = self.open.get(partition)
            eager = self._light()
            if queue or batch is None or not (eager or batch.is_due(now, self.limits)):
                continue
            if self._fills_from_backlog(partition, batch, now):
                continue
            if self._send_allowed(batch):
                self._submit(self.open.pop(partition))

    def _fills_from_backlog(self, partition: Partition, batch: PartitionBatch, now: float) -> bool:
        last = self.trackers[partition].last
        high = self.kafka.fetched_high(partition)  # cached from fetch responses
        if last is None or high is None:
            return False
        room = self.limits.batch_size - len(batch.offsets)
        paused = partition in self.paused
        busy = bool(self.writer.tasks)
        return waits_to_fill(high - last - 1, room, paused, now - batch.created_at, busy)

    def _light(self) -> bool:
        """Light traffic: few tasks and little data in flight (latency matters more than CPU)."""
        return (
            len(self.writer.tasks) < self._eager_tasks
            and self.writer.buffered_bytes < LIGHT_BYTES_IN_FLIGHT
        )

    def _send_allowed(self, batch: PartitionBatch) -> bool:
        # A fenced table's batches wait, in order, until bootstrap lifts the fence. The view
        # is refreshed per batch: one dispatch may send many, and never on a stale one.
        if not self.writer.has_capacity():
            return False
        name = batch.table.qualified_name
        barrier = self.barriers.holds(name)
        if barrier is not None and not self._passes_barrier(batch, barrier):
            return False  # held until the clear-all of the table's truncate is enqueued
        return name.upper() not in self._fenced_tables(self.clock())

    def _passes_barrier(self, batch: PartitionBatch, barrier: Barrier) -> bool:
        """While a truncate is announced, only what is safe either side of its clear-all goes:
        the truncate itself once every partition is aligned, what precedes it in its own
        partition, and batches of deletes only."""
        if batch.truncate_at == barrier.position:
            return barrier.ready
        if not batch.truncate and all(e.kind == "delete" for e in batch.entries.values()):
            return True
        queued = [*self.held.get(batch.partition, ()), self.open.get(batch.partition)]
        at = next((i for i, b in enumerate(queued) if b is batch), len(queued))
        return any(b is not None and b.truncate_at == barrier.position for b in queued[at + 1 :])

    def _submit(self, batch: PartitionBatch) -> None:
        self._busy = True
        try:
            self.writer.submit(batch)
        except Abandoned:
            return
        finally:
            self._busy = False
        if batch.truncate_at is not None:
            self.barriers.enqueued(batch.table.qualified_name, batch.truncate_at)

    def _collect(self) -> int:
        """Settle finished tasks and sent dead letters; returns the number of finished flights."""
        self._busy = True
        try:
            done = self.writer.poll()
        except Abandoned:
            done = []
        finally:
            self._busy = False
        for flight in done:
            self._account(flight)
        sent = self.dlq.flush()
        for letter in sent:
            self._mark_done(letter.record.partition, [letter.record.offset])
        for flight in done:
            self._mark_done(flight.batch.partition, flight.batch.offsets)
        return len(done)

    def _account(self, flight: Flight) -> None:
        partition = flight.batch.partition
        if flight.rejected:
            # Raw records are not kept in flight (memory); the rejected few are read again.
            offsets = [r.offset for r in flight.rejected]
            found = read_offsets(self.settings.kafka, partition.topic, partition.partition, offsets)
            for letter in letters_for(partition, flight.rejected, found):
                self._dead_letter(letter)
        applied = len(flight.batch.offsets) - len(flight.rejected)
        self.dlq.limit.record(True, applied)
        metrics.events_applied(
            flight.batch.table.qualified_name, applied, flight.batch.source_ts, flight.finished_ms
        )
        metrics.batch_seconds(self.clock() - flight.batch.created_at)
        rejected = {r.offset for r in flight.rejected}
        for entry in flight.batch.entries.values():
            if entry.offset in rejected:
                continue
            if entry.kind == "delete":
                self.stats.deleted += 1
            else:
                self.stats.applied += 1

    def _mark_done(self, partition: Partition, offsets: list[int]) -> None:
        tracker = self.trackers.get(partition)
        if tracker is not None:
            tracker.done(offsets)

    # -- flow control, commits, rebalances

    def _flow_control(self) -> None:
        buffered = (
            self.writer.buffered_bytes
            + sum(b.bytes for q in self.held.values() for b in q)
            + sum(b.bytes for b in self.open.values())
        )
        waiting = {p for p, q in self.held.items() if q}
        wanted = partitions_to_pause(self.trackers.keys(), waiting, buffered, self.limits)
        if self._decode_retries:  # the backlog waits for the schema registry: fetch no more
            wanted = set(self.trackers)
        self.kafka.pause(wanted - self.paused)
        self.kafka.resume(self.paused - wanted)
        self.paused = wanted
        self.stats.buffered_bytes = buffered

    def _commit(self, now: float, force: bool = False) -> None:
        if not force and now - self._times["commit"] < COMMIT_INTERVAL_S:
            return
        self._times["commit"] = now
        offsets = {p: o for p, t in self.trackers.items() if (o := t.committable()) is not None}
        if not offsets:
            return
        try:
            self.kafka.commit(offsets)
        except TransientError as exc:
            log.warning("%s (will commit again)", exc)
            return
        for partition, offset in offsets.items():
            self.trackers[partition].mark_committed(offset)

    def _on_assign(self, partitions: list[Partition]) -> None:
        log.info("assigned %s", ", ".join(map(str, partitions)) or "nothing")
        self.stats.ready = not self._closing
        for partition in partitions:
            self.trackers[partition] = OffsetTracker()
        # a partition paused before a rebalance can come back still paused
        self.kafka.resume(partitions)

    def _on_revoke(self, partitions: list[Partition]) -> None:
        log.info("revoked %s", ", ".join(map(str, partitions)) or "nothing")
        gone = set(partitions)
        if not self._closing and not self._busy:
            deadline = self.clock() + self.limits.shutdown_timeout_s
            while self.writer.pending(gone) and self.clock() < deadline:
                self._collect()
                time.sleep(TASK_POLL_S)
        self.writer.abandon(gone)
        self._commit(self.clock(), force=True)
        self.barriers.forget(gone)
        for partition in gone:
            metrics.forget_partition(partition.topic, partition.partition)
            self.trackers.pop(partition, None)
            self.open.pop(partition, None)
            self.held.pop(partition, None)
        self.paused -= gone
        self.backlog = [r for r in self.backlog if r.partition not in gone]

    def _rejoin(self, fenced: MemberFenced) -> None:
        """Drop the fenced client and its partitions' unfinished work (their offsets stay
        uncommitted, so it is read again), then join the group again with a new client."""
        now = self.clock()
        self._fences = [t for t in self._fences if now - t < FENCE_WINDOW_S] + [now]
        if len(self._fences) > MAX_FENCES:
            raise DependencyUnavailable(
                f"{fenced}; fenced {len(self._fences)} times within {FENCE_WINDOW_S:.0f}s: "
                f"another consumer uses group.instance.id {self.member.instance_id}"
            )
        message = f"{fenced}; rejoining the group with a new client"
        log.warning("%s", message)
        self._record_error(message, force=True)
        gone = list(self.trackers)
        self.writer.abandon(gone)
        self.barriers.forget(set(gone))
        for partition in gone:
            metrics.forget_partition(partition.topic, partition.partition)
        self.trackers.clear()
        self.open.clear()
        self.held.clear()
        self.paused.clear()
        self.backlog = []
        with contextlib.suppress(Exception):  # a fenced client cannot leave cleanly
            self.kafka.close()
        self.kafka = KafkaConsumer(self.settings.kafka, instance_id=self.member.instance_id)
        self.kafka.subscribe(list(self.tables), self._on_assign, self._on_revoke)

    # -- waiting while the writer retries (keeps the group membership alive)

    def _idle(self, seconds: float) -> None:
        self.kafka.pause(set(self.trackers) - self.paused)
        self.paused = set(self.trackers)
        deadline = self.clock() + seconds
        while not self._stop and (left := deadline - self.clock()) > 0:
            self.backlog += self.kafka.consume(100, min(left, 0.1))

    def _stopping(self) -> bool:
        return self._stop

    def _note_retry(self, message: str, cause: str = "meilisearch") -> None:
        self.stats.retries += 1
        metrics.retry("consumer", cause)
        self._record_error(message)

    def _record_error(self, message: str, force: bool = False) -> None:
        self.stats.last_error = message
        metrics.last_error("consumer")
        now = self.clock()
        if force or now - self._last_error_record >= 1.0:
            self._last_error_record = now
            try:
                self.state.record_error("consumer", message)
            except Exception as exc:  # the state store is best effort here
                log.warning("cannot record error in the state store: %s", exc)

    # -- catching up and lag

    def _end_offsets(self) -> dict[Partition, int]:
        marks = self.kafka.watermarks(self.kafka.partitions_of(self.tables))
        return {p: high for p, (low, high) in marks.items() if high > low}

    def _caught_up(self) -> bool:
        now = self.clock()
        if now - self._times["caught"] < CAUGHT_UP_POLL_S or self.targets is None:
            return False
        if not self.targets:
            return True
        for partition, end in self.targets.items():  # ours first: no round trip while behind
            tracker = self.trackers.get(partition)
            # nothing committed in this process: only the broker knows where the group is
            if tracker is not None and (tracker.outstanding or (tracker.committed or end) < end):
                return False
        self._times["caught"] = now
        try:
            committed = self.kafka.committed(self.targets)
        except TransientError as exc:
            log.warning("%s", exc)
            return False
        return all((committed.get(p) or 0) >= end for p, end in self.targets.items())

    def _update_stats(self, now: float) -> None:
        self.stats.in_flight_tasks = len(self.writer.tasks)
        metrics.tasks_in_flight(self.stats.in_flight_tasks)
        self.stats.paused_partitions = len(self.paused)
        if now - self._times["lag"] < LAG_INTERVAL_S or not self.trackers:
            return
        self._times["lag"] = now
        per_table: dict[str, int] = {}
        for partition, tracker in self.trackers.items():
            high = self.kafka.fetched_high(partition)
            position = tracker.committed
            if high is not None and position is not None:
                lag = max(high - position, 0)
                self.stats.lag[str(partition)] = lag
                metrics.partition_lag(partition.topic, partition.partition, lag)
                table = self.tables[partition.topic].qualified_name
                per_table[table] = per_table.get(table, 0) + lag
        for table, lag in per_table.items():
            metrics.table_lag(table, lag)
