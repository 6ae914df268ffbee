"""Applies batches to Meilisearch as tasks, several in flight, and tracks their outcome.

Meilisearch merges consecutive enqueued tasks of an index into one batch, so
keeping a few tasks in flight lets the consumer approach a direct bulk load.
Transient faults are retried with exponential backoff and jitter; the `idle`
callback is the retry sleep, so the caller keeps polling Kafka meanwhile. A
task rejected for its documents is split until the bad ones are isolated
(`cdc_sync.consumer.flights`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from cdc_sync.config import ConsumerSettings
from cdc_sync.consumer.backpressure import can_send
from cdc_sync.consumer.batch import Entry, PartitionBatch
from cdc_sync.consumer.flights import (
    Flight,
    Part,
    Rejection,
    halves,
    superseded,
    without_superseded,
)
from cdc_sync.consumer.interfaces import SinkApi
from cdc_sync.errors import TerminalError, TransientError
from cdc_sync.kafka.types import Partition
from cdc_sync.retry import Retry
from cdc_sync.sink.http import ApiRejected

log = logging.getLogger(__name__)
T = TypeVar("T")

# Task failures that say nothing about the documents: resend the same task.
TRANSIENT_TASK_CODES = frozenset(
    {"internal", "io_error", "no_space_left_on_device", "too_many_open_files", "task_canceled"}
)
FATAL_STATUS = frozenset({401, 403})
RESENDS = 4
_FRACTION = re.compile(r"\.\d+")
_NAMED_ID = re.compile(r'`"([A-Za-z0-9_-]{1,511})"`')


def finished_ms(moment: str | None) -> float:
    """A task's finish time (RFC 3339, nanoseconds) as epoch ms; now if it has none."""
    if not moment:
        return time.time() * 1000
    # fromisoformat takes at most microseconds
    text = _FRACTION.sub(lambda m: m.group(0)[:7], moment.replace("Z", "+00:00"))
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return time.time() * 1000
    aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return aware.timestamp() * 1000


def named_ids(message: str) -> set[str]:
    """Document ids an error message names (Meilisearch quotes them as `"id"`)."""
    return set(_NAMED_ID.findall(message))


class Abandoned(Exception):
    """The flight was given up (its partition was revoked); stop working on it."""


class EnqueueRejected(TerminalError):
    """Meilisearch refused the request itself (payload too large, malformed document)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def _rejected(exc: ApiRejected) -> TerminalError:
    """A refusal of the documents themselves is isolated; bad credentials stop the consumer."""
    if exc.status in FATAL_STATUS:
        return exc
    return EnqueueRejected(exc.code, exc.message)


class Writer:
    def __init__(
        self,
        client: SinkApi,
        limits: ConsumerSettings,
        idle: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str], None] = lambda _: None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.client = client
        self.limits = limits
        self.bind(idle, on_retry, should_stop)
        self.flights: dict[Partition, deque[Flight]] = {}
        self.tasks: dict[int, tuple[Flight, Part]] = {}
        self._touched: list[Flight] = []  # flights whose parts changed since the last report

    def bind(
        self,
        idle: Callable[[float], None],
        on_retry: Callable[[str], None],
        should_stop: Callable[[], bool],
    ) -> None:
        """How to wait between retries (`idle` keeps the caller's group membership alive),
        whom to tell about them, and when to give up: the consumer loop binds its own."""
        self._idle = idle
        self._on_retry = on_retry
        self._should_stop = should_stop
        self._retry = Retry(
            lambda exc: isinstance(exc, TransientError),
            first_s=0.2,
            max_s=self.limits.retry_max_s,
            sleep=idle,
            on_retry=lambda note: on_retry(note.message),
            logger=log,
        )

    # -- capacity (backpressure)

    @property
    def buffered_bytes(self) -> int:
        return sum(f.bytes for flights in self.flights.values() for f in flights)

    def has_capacity(self) -> bool:
        return can_send(len(self.tasks), self.buffered_bytes, self.limits)

    # -- sending

    def submit(self, batch: PartitionBatch) -> Flight:
        flight = Flight(batch)
        self.flights.setdefault(batch.partition, deque()).append(flight)
        for part in flight.parts():
            self._send(flight, part)
        flight.sent = True
        self._touched.append(flight)
        return flight

    def _send(self, flight: Flight, part: Part) -> None:
        try:
            uid = self._call(
                f"enqueue {part.kind} to {flight.batch.index_uid}",
                flight,
                lambda: self._enqueue(flight, part),
            )
        except EnqueueRejected as exc:
            self._isolate(flight, part, exc.code, str(exc))
            return
        part.task_uid = uid
        if log.isEnabledFor(logging.DEBUG):
            ids = [e.doc_id for e in part.entries]
            log.debug("task %d: %s %s %s", uid, part.kind, flight.batch.partition, ids)
        flight.open_parts.append(part)
        self.tasks[uid] = (flight, part)

    def _enqueue(self, flight: Flight, part: Part) -> int:
        table = flight.batch.table
        if part.kind == "truncate":
            return self.client.delete_all_documents(table.index_uid)
        if part.kind == "delete":
            return self.client.delete_documents(table.index_uid, (e.doc_id for e in part.entries))
        payload = b"[" + b",".join([e.body for e in part.entries if e.body is not None]) + b"]"
        replace = part.kind == "replace"
        return self.client.add_documents(table.index_uid, payload, table.id_field, replace=replace)

    def _call(self, what: str, flight: Flight | None, fn: Callable[[], T]) -> T:
        """Transient faults retried until they pass (`bind`). Stopping ends the retries,
        not a first attempt: shutdown still learns which tasks finished."""
        first = True

        def attempt() -> T:
            nonlocal first
            if (flight is not None and flight.abandoned) or (not first and self._should_stop()):
                raise Abandoned
            first = False
            try:
                return fn()
            except ApiRejected as exc:
                raise _rejected(exc) from exc

        return self._retry.call(what, attempt)

    # -- outcomes

    def poll(self) -> list[Flight]:
        """Ask Meilisearch about every task in flight (one request); return flights now done."""
        if not self.tasks:
            return self._finished()
        uids = list(self.tasks)
        results = self._call("task status poll", None, lambda: self.client.finished_tasks(uids))
        for task in results:
            found = self.tasks.get(task.uid)
            if found is None or task.status not in ("succeeded", "failed", "canceled"):
                continue
            del self.tasks[task.uid]
            flight, part = found
            flight.open_parts.remove(part)
            flight.finished_ms = max(flight.finished_ms or 0.0, finished_ms(task.finished_at))
            self._touched.append(flight)
            log.debug("task %s %s", task.uid, task.status)
            if task.status != "succeeded" and not flight.abandoned:
                error: dict[str, Any] = task.error or {
                    "code": "task_canceled",
                    "message": "canceled",
                }
                self._failed(flight, part, str(error.get("code")), str(error.get("message")))
        return self._finished()

    def _failed(self, flight: Flight, part: Part, code: str, message: str) -> None:
        if code == "index_not_found" and part.kind in ("delete", "truncate"):
            return  # nothing to delete
        if code in TRANSIENT_TASK_CODES or part.kind == "truncate":
            message = f"task {part.kind} on {flight.batch.index_uid} failed: {code}: {message}"
            log.warning("%s; resending", message)
            self._on_retry(message)
            self._idle(1.0)
            if flight.abandoned:
                return
            if part.kind == "truncate":
                self._send(flight, Part(part.kind, part.entries))
            elif entries := self._not_superseded(flight, part.entries):
                self._send(flight, Part(part.kind, entries))
            return
        self._isolate(flight, part, code, message)

    def _not_superseded(self, flight: Flight, entries: list[Entry]) -> list[Entry]:
        """The entries no later sent flight of the partition has written since: only these
        may be resent, or an older image would undo a newer change."""
        return without_superseded(entries, superseded(self.flights[flight.batch.partition], flight))

    def _isolate(self, flight: Flight, part: Part, code: str, message: str) -> None:
        """Find the documents Meilisearch rejected; dead-letter them and resend the rest.

        Meilisearch fails every task it batched with a bad document, with that
        document's error. When the error names the id, the culprit is known: a
        part without it was only batched with it and is resent whole. Otherwise
        the part is split in halves until single documents remain, and a single
        document is tried alone a few times before it counts as bad.
        """
        entries = self._not_superseded(flight, part.entries)
        if not entries:
            return
        named = named_ids(message)
        culprits = [e for e in entries if e.doc_id in named]
        if culprits:
            for entry in culprits:
                flight.rejected.append(Rejection(entry.offset, code, message))
            rest = [e for e in entries if e.doc_id not in named]
            if rest:
                self._send(flight, Part(part.kind, rest))
        elif (named and part.resends < RESENDS) or (len(entries) == 1 and part.resends < RESENDS):
            self._send(flight, Part(part.kind, entries, resends=part.resends + 1))
        elif len(entries) == 1:
            flight.rejected.append(Rejection(entries[0].offset, code, message))
        else:
            log.info(
                "%s rejected %d documents (%s); splitting",
                flight.batch.index_uid,
                len(entries),
                code,
            )
            for half in halves(entries):
                self._send(flight, Part(part.kind, half))

    def _finished(self) -> list[Flight]:
        touched, self._touched = self._touched, []
        done = [f for f in dict.fromkeys(touched) if f.done and not f.abandoned]
        for partition, flights in list(self.flights.items()):
            while flights and flights[0].done:
                flights.popleft()
            if not flights:
                del self.flights[partition]
        return done

    def pending(self, partitions: Iterable[Partition]) -> int:
        wanted = set(partitions)
        return sum(1 for f, _ in self.tasks.values() if f.batch.partition in wanted)

    def abandon(self, partitions: Iterable[Partition]) -> None:
        """Forget the partitions' unfinished work; its offsets stay uncommitted."""
        for partition in partitions:
            for flight in self.flights.pop(partition, ()):
                flight.abandoned = True
        self.tasks = {uid: fp for uid, fp in self.tasks.items() if not fp[0].abandoned}
