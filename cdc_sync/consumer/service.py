"""The consumer loop (arroyo's ``run_once`` shape): fetch, map, batch, write, commit.

One thread. Each iteration takes what Kafka has, maps it into per-partition
batches, sends due batches while Meilisearch has room (otherwise pauses their
partitions; polling goes on so the group keeps us), collects finished tasks and
commits, per partition, the offset after the contiguous done prefix.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable

from cdc_sync import metrics
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
from cdc_sync.consumer.fences import Fences
from cdc_sync.consumer.flights import Flight
from cdc_sync.consumer.interfaces import (
    ConsumerState,
    GroupConsumer,
    GroupIdentity,
    RecordReads,
    TruncateStore,
)
from cdc_sync.consumer.offsets import OffsetTracker
from cdc_sync.consumer.partitions import Partitions
from cdc_sync.consumer.progress import CatchUp, LagReport
from cdc_sync.consumer.reports import ErrorReport
from cdc_sync.consumer.skipped import SkippedRecords
from cdc_sync.consumer.stats import ConsumerStats
from cdc_sync.consumer.truncates import DONE, TruncateOrder
from cdc_sync.consumer.writer import Abandoned, Writer
from cdc_sync.documents.mapping import Upsert, operation_for_event, operation_for_row
from cdc_sync.errors import DependencyUnavailable, TerminalError, TransientError
from cdc_sync.events.decode import (
    AvroDecoder,
    DecodeError,
    NotARowChange,
    decode_record,
    relay_row,
)
from cdc_sync.events.position import Position
from cdc_sync.kafka.consumer import MemberFenced
from cdc_sync.kafka.types import Partition, Received
from cdc_sync.retry import Retry
from cdc_sync.sink.validate import check_document

log = logging.getLogger(__name__)

MAX_FENCES, FENCE_WINDOW_S = 3, 300.0
"""Fenced more often than this (another process really shares our group.instance.id): stop."""
COMMIT_INTERVAL_S = 0.2
LIGHT_BYTES_IN_FLIGHT = 1024 * 1024
"""Below this (about 2,000 small documents) in flight, traffic counts as light."""
TASK_POLL_S = 0.05


class ConsumerService:
    """The loop over the collaborators it is handed (`cli/consume.py` builds the real ones).

    It owns them from then on: `shutdown` closes the Kafka client, the member's slot,
    the dead-letter producer and the sink client.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        new_consumer: Callable[[], GroupConsumer],
        writer: Writer,
        dead_letters: DeadLetterQueue,
        state: ConsumerState,
        truncates: TruncateStore,
        reads: RecordReads,
        member: GroupIdentity,
        avro: AvroDecoder | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`new_consumer` makes a group member client: one now, another after a fence."""
        self.settings = settings
        self.limits = settings.consumer
        self.clock = clock
        self.sleep = sleep
        self.tables: dict[str, TableSettings] = {settings.topic_of(t): t for t in settings.tables}
        self.stats = ConsumerStats()
        self.report = ErrorReport(state, self.stats, clock)
        self.skipped = SkippedRecords(self.stats, clock)
        # the collaborators
        self.member = member
        self.new_consumer = new_consumer
        self.kafka = new_consumer()
        self.writer = writer
        writer.bind(self._idle, self.report.retry, self._stopping)
        self.dlq = dead_letters
        self.reads = reads
        self.avro = avro
        # what the loop keeps
        self.partitions = Partitions()
        self.truncates = TruncateOrder(truncates, self.tables, self.partitions, writer, reads, avro)
        self.fences = Fences(
            state, [t.qualified_name for t in settings.tables], clock, self.report.error
        )
        self.catch_up: CatchUp | None = None
        self.lag = LagReport(self.tables, self.stats)
        self._registry_retry = Retry(
            lambda exc: isinstance(exc, TransientError),
            first_s=0.2,
            max_s=self.limits.retry_max_s,
            on_retry=lambda note: self.report.retry(note.message, cause="schema_registry"),
            logger=log,
        )
        self._decode_retries = 0
        # While fewer tasks than this are in flight, traffic is light: batches go at once.
        self._eager_tasks = max(1, self.limits.max_tasks_in_flight // 4)
        self._poll_s = LIGHT_TASK_POLL_S
        self._polled_tasks_at = -math.inf
        self._committed_at = -math.inf
        self._stop = False
        self._closing = False
        self._busy = False  # inside the writer: a rebalance then abandons instead of settling
        self._fences: list[float] = []  # when this member was fenced lately

    # -- life cycle

    def start(self, until_caught_up: bool = False) -> None:
        if until_caught_up:
            self.catch_up = CatchUp.to_end_offsets(self.kafka, self.tables)
            log.info("catching up to end offsets of %d partitions", len(self.catch_up.targets))
        if self.member.instance_id:
            log.info("static group member %s", self.member.instance_id)
        self.kafka.subscribe(list(self.tables), self._on_assign, self._on_revoke)

    def stop(self) -> None:
        self._stop = True

    def run(self, until_caught_up: bool = False) -> None:
        self.start(until_caught_up)
        try:
            while not self._stop:
                try:
                    self.run_once()
                except MemberFenced as exc:
                    self._rejoin(exc)
                    continue
                if self.catch_up is not None and self.catch_up.reached(
                    self.kafka, self.partitions.trackers, self.clock()
                ):
                    log.info("caught up: the group's committed offsets reached the end offsets")
                    break
            self.shutdown()
        except BaseException as exc:
            self.report.error(f"consumer stopped: {exc}", force=True)
            self._closing = True
            self.kafka.close()
            self.member.release()
            raise

    def run_once(self) -> None:
        now = self.clock()
        unsent = self.partitions.unsent()
        busy = bool(self.writer.tasks) or unsent
        light = self._light()
        draining = not unsent
        if light:
            self._poll_s = LIGHT_TASK_POLL_S
        elif draining:
            self._poll_s = min(self._poll_s, DRAINING_TASK_POLL_S)
        next_poll = self._polled_tasks_at + self._poll_s
        self.truncates.align_owned(self.kafka, now)
        records, self.partitions.backlog = self.partitions.backlog, []
        records += self.kafka.consume(1000, max(next_poll - now, 0.001) if busy else 0.5)
        self._intake_all(records, now)
        now = self.clock()
        self._dispatch(now)
        finished = 0
        if now >= next_poll:
            self._polled_tasks_at = now
            finished = self._collect()
            self._poll_s = task_poll_interval(self._poll_s, light, finished, draining)
        self._flow_control()
        # catching up, the end is noticed sooner when finished work is committed at once
        self._commit(now, force=finished > 0 and self.catch_up is not None)
        self._update_stats(now)

    def shutdown(self) -> None:
        """Stop fetching, wait for tasks in flight (bounded), commit what is applied, close."""
        self._closing = True
        self.stats.ready = False
        self.kafka.pause(set(self.partitions.trackers) - self.partitions.paused)
        deadline = self.clock() + self.limits.shutdown_timeout_s
        while self.writer.tasks and self.clock() < deadline:
            self._collect()
            self.sleep(TASK_POLL_S)
        self._collect()
        self._commit(self.clock(), force=True)
        if self.writer.tasks:
            log.warning("shutdown: abandoned %d unfinished tasks", len(self.writer.tasks))
        self.kafka.close()
        self.member.release()
        self.dlq.producer.close()
        self.writer.client.close()
        log.info("consumer stopped", extra={"fields": {"stats": self.stats.as_dict()}})

    # -- intake: record → batch entry or dead letter

    def _intake_all(self, records: list[Received], now: float) -> None:
        for index, record in enumerate(records):
            try:
                self._intake(record, now)
            except TransientError as exc:  # the schema registry does not answer
                self.partitions.backlog[:0] = records[index:]  # this one first, next time
                self._wait_for_decoder(exc)
                return
        self._decode_retries = 0

    def _wait_for_decoder(self, exc: TransientError) -> None:
        """Back off (polling Kafka, every partition paused); offsets stay where they are."""
        self._decode_retries += 1
        self._idle(self._registry_retry.note("schema registry", self._decode_retries, exc))

    def _intake(self, record: Received, now: float) -> None:
        tracker = self.partitions.trackers.get(record.partition)
        if tracker is None or (tracker.last is not None and record.offset <= tracker.last):
            return  # not ours any more, or a duplicate fetch
        table = self.tables[record.partition.topic]
        if not self.truncates.standing and self._intake_relay_row(record, tracker, table, now):
            return
        failure: DecodeError | None = None
        truncate: Position | None = None
        try:  # a TransientError leaves before the record counts as received: it comes again
            event = decode_record(record.key, record.value, avro=self.avro)
            if event.op == "t":
                truncate = self.truncates.announce(self.kafka, record.partition.topic, table, event)
        except DecodeError as exc:
            failure = exc
        self._received(record, tracker)
        if isinstance(failure, NotARowChange):  # counted; done at once, as a dropped record
            self.skipped.skip(record.partition.topic, table.qualified_name, failure.kind)
            self.partitions.mark_done(record.partition, [record.offset])
            return
        if failure is None and (
            truncate is DONE or self.truncates.drops(table, record.partition, event)
        ):
            # a truncate after it removes it
            self.partitions.mark_done(record.partition, [record.offset])
            return
        try:
            if failure is not None:
                raise failure
            op = None if event.op == "t" else operation_for_event(table, event)
            if isinstance(op, Upsert):
                check_document(op.document)
        except TerminalError as exc:
            self._dead_letter(DeadLetter(record, exc.code, str(exc)))
            return
        batch = self.partitions.open_batch(record.partition, table, now)
        if event.op == "t":
            batch.add_truncate(record.offset, truncate)
        else:
            batch.add(record.offset, op, event.ts_ms)
        self.partitions.hold_if_full(batch, self.limits)

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
            self._dead_letter(DeadLetter(record, exc.code, str(exc)))
            return True
        self._received(record, tracker)
        batch = self.partitions.open_batch(record.partition, table, now)
        batch.add(record.offset, op, ts_ms)
        self.partitions.hold_if_full(batch, self.limits)
        return True

    def _received(self, record: Received, tracker: OffsetTracker) -> None:
        if tracker.last is None:
            self.stats.first_offsets.setdefault(str(record.partition), record.offset)
        tracker.received(record.offset)
        self.stats.received += 1

    def _dead_letter(self, letter: DeadLetter) -> None:
        self.dlq.send(letter)
        self.stats.dead_lettered += 1
        table = self.tables.get(letter.record.partition.topic)
        metrics.events_dead_lettered(table.qualified_name if table else "?", letter.code)

    # -- writing

    def _dispatch(self, now: float) -> None:
        """Send full batches in order, then due open ones, while Meilisearch has room.

        While it has none, open batches keep growing up to the batch limits, so
        a backlog goes out in few large tasks rather than many small ones. With
        few tasks of ours in flight, lingering gains nothing (Meilisearch would
        sit idle, and batches the tasks it has not started anyway), so open
        batches go at once: low latency at light traffic, large tasks at heavy.
        A partition with a backlog in Kafka sends full batches only (`waits_to_fill`).
        """
        partitions = self.partitions
        for partition in list(partitions.trackers):
            queue = partitions.held.get(partition)
            while queue and self._send_allowed(queue[0]):
                self._submit(queue.popleft())
            batch = partitions.open.get(partition)
            eager = self._light()
            if queue or batch is None or not (eager or batch.is_due(now, self.limits)):
                continue
            if self._fills_from_backlog(partition, batch, now):
                continue
            if self._send_allowed(batch):
                self._submit(partitions.open.pop(partition))

    def _fills_from_backlog(self, partition: Partition, batch: PartitionBatch, now: float) -> bool:
        last = self.partitions.trackers[partition].last
        high = self.kafka.fetched_high(partition)  # cached from fetch responses
        if last is None or high is None:
            return False
        room = self.limits.batch_size - len(batch.offsets)
        paused = partition in self.partitions.paused
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
        if not self.truncates.allows(batch):
            return False  # held until the clear-all of the table's truncate is enqueued
        return not self.fences.holds(batch.table.qualified_name)

    def _submit(self, batch: PartitionBatch) -> None:
        self._busy = True
        try:
            self.writer.submit(batch)
        except Abandoned:
            return
        finally:
            self._busy = False
        self.truncates.sent(batch)

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
            self.partitions.mark_done(letter.record.partition, [letter.record.offset])
        for flight in done:
            self.partitions.mark_done(flight.batch.partition, flight.batch.offsets)
        return len(done)

    def _account(self, flight: Flight) -> None:
        partition = flight.batch.partition
        if flight.rejected:
            # Raw records are not kept in flight (memory); the rejected few are read again.
            offsets = [r.offset for r in flight.rejected]
            found = self.reads.records_at(partition, offsets)
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

    # -- flow control, commits, rebalances

    def _flow_control(self) -> None:
        partitions = self.partitions
        buffered = self.writer.buffered_bytes + partitions.unsent_bytes()
        assigned = partitions.trackers.keys()
        wanted = partitions_to_pause(assigned, partitions.waiting(), buffered, self.limits)
        if self._decode_retries:  # the backlog waits for the schema registry: fetch no more
            wanted = set(assigned)
        self.kafka.pause(wanted - partitions.paused)
        self.kafka.resume(partitions.paused - wanted)
        partitions.paused = wanted
        self.stats.buffered_bytes = buffered

    def _commit(self, now: float, force: bool = False) -> None:
        if not force and now - self._committed_at < COMMIT_INTERVAL_S:
            return
        self._committed_at = now
        trackers = self.partitions.trackers
        offsets = {p: o for p, t in trackers.items() if (o := t.committable()) is not None}
        if not offsets:
            return
        try:
            self.kafka.commit(offsets)
        except TransientError as exc:
            log.warning("%s (will commit again)", exc)
            return
        for partition, offset in offsets.items():
            trackers[partition].mark_committed(offset)

    def _on_assign(self, partitions: list[Partition]) -> None:
        log.info("assigned %s", ", ".join(map(str, partitions)) or "nothing")
        self.stats.ready = not self._closing
        self.partitions.assign(partitions)
        # a partition paused before a rebalance can come back still paused
        self.kafka.resume(partitions)

    def _on_revoke(self, partitions: list[Partition]) -> None:
        log.info("revoked %s", ", ".join(map(str, partitions)) or "nothing")
        gone = set(partitions)
        if not self._closing and not self._busy:
            deadline = self.clock() + self.limits.shutdown_timeout_s
            while self.writer.pending(gone) and self.clock() < deadline:
                self._collect()
                self.sleep(TASK_POLL_S)
        self.writer.abandon(gone)
        self._commit(self.clock(), force=True)
        self._forget(gone)

    def _forget(self, gone: set[Partition]) -> None:
        """The partitions are no longer ours: nothing of them is kept."""
        self.truncates.forget(gone)
        for partition in gone:
            metrics.forget_partition(partition.topic, partition.partition)
        self.partitions.forget(gone)

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
        self.report.error(message, force=True)
        gone = set(self.partitions.trackers)
        self.writer.abandon(gone)
        self._forget(gone)
        with contextlib.suppress(Exception):  # a fenced client cannot leave cleanly
            self.kafka.close()
        self.kafka = self.new_consumer()
        self.kafka.subscribe(list(self.tables), self._on_assign, self._on_revoke)

    # -- waiting while the writer retries (keeps the group membership alive)

    def _idle(self, seconds: float) -> None:
        partitions = self.partitions
        self.kafka.pause(set(partitions.trackers) - partitions.paused)
        partitions.paused = set(partitions.trackers)
        deadline = self.clock() + seconds
        while not self._stop and (left := deadline - self.clock()) > 0:
            partitions.backlog += self.kafka.consume(100, min(left, 0.1))

    def _stopping(self) -> bool:
        return self._stop

    def _update_stats(self, now: float) -> None:
        self.stats.in_flight_tasks = len(self.writer.tasks)
        metrics.tasks_in_flight(self.stats.in_flight_tasks)
        self.stats.paused_partitions = len(self.partitions.paused)
        self.lag.update(self.kafka, self.partitions.trackers, now)
