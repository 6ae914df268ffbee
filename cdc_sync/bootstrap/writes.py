"""Writing documents to Meilisearch for bootstrap, catch-up and repair.

Every call retries transient faults (`classify`) with backoff; a task that fails
because of bad documents is split until the bad ones are isolated, so the good
ones are still written and the bad ones are reported as failures.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

import meilisearch

from cdc_sync.documents.compact import Compacted, Kind
from cdc_sync.documents.mapping import DocumentOp
from cdc_sync.documents.serialise import dumps
from cdc_sync.errors import TransientError
from cdc_sync.sink.http import SinkHttp, TaskOutcome
from cdc_sync.sink.retry import call

Failure = tuple[str | None, str]
"""(document id or None, reason)."""
MAX_HELD = 20_000
"""Documents a replay holds in memory at most; a longer stretch is written in pieces."""
MAX_POSTS = 4
"""Tasks of one replay piece posted side by side."""
TASK_TIMEOUT_S = 600.0
POLL_S, MAX_POLL_S = 0.01, 0.05
"""Polling of tasks awaited together: from 10 ms, growing to 50 ms."""


def wait_task(http: SinkHttp, task_uid: int, budget_s: float = 60.0) -> TaskOutcome:
    """Wait for a task to finish (any status) and return it."""
    return call(
        lambda: http.wait(task_uid, TASK_TIMEOUT_S),
        f"waiting for meilisearch task {task_uid}",
        budget_s,
    )


@dataclass(frozen=True)
class Target:
    """An index to write to, with its primary-key field and the retry budget."""

    client: meilisearch.Client
    """Administrative calls (indexes, settings, swaps)."""
    http: SinkHttp
    """Document writes and task status."""
    uid: str
    id_field: str = "id"
    budget_s: float = 60.0

    def ids(self, docs: list[Any]) -> list[str | None]:
        return [d if isinstance(d, str) else (d or {}).get(self.id_field) for d in docs]


def enqueue(target: Target, kind: Kind, payload: list[Any]) -> int:
    http, uid = target.http, target.uid
    if kind == "delete":
        send = partial(http.delete_documents, uid, payload)
    else:
        body = dumps(payload)
        send = partial(http.add_documents, uid, body, target.id_field, replace=kind == "replace")
    return call(send, f"writing to index {uid}", target.budget_s)


def write_isolating(target: Target, kind: Kind, docs: list[Any]) -> list[Failure]:
    """Write and wait; on a failed task split it in halves until the bad documents are alone."""
    task = wait_task(target.http, enqueue(target, kind, docs), target.budget_s)
    return settle(target, kind, docs, task)


def settle(target: Target, kind: Kind, docs: list[Any], task: TaskOutcome) -> list[Failure]:
    if task.status == "succeeded":
        return []
    reason = (task.error or {}).get("message", str(task.status))
    if len(docs) <= 1 or kind == "delete":
        return [(i, f"meilisearch: {reason}") for i in target.ids(docs) or [None]]
    half = len(docs) // 2
    return write_isolating(target, kind, docs[:half]) + write_isolating(target, kind, docs[half:])


def wait_all(target: Target, uids: Iterable[int]) -> dict[int, TaskOutcome]:
    """The outcome of every task, asked for in one request per poll.

    Tasks enqueued together finish together, in one of Meilisearch's batches: one
    request sees them all, where waiting for each in turn cost a request per task
    after the first one's (growing) poll interval. TransientError when none of them
    finished for `TASK_TIMEOUT_S`.
    """
    http, budget = target.http, target.budget_s
    waiting = set(uids)
    outcomes: dict[int, TaskOutcome] = {}
    interval, progress = POLL_S, time.monotonic()
    while waiting:
        found = call(lambda: http.finished_tasks(waiting), "waiting for meilisearch tasks", budget)
        for task in found:
            outcomes[task.uid] = task
            waiting.discard(task.uid)
        if found:
            progress = time.monotonic()
        elif time.monotonic() - progress > TASK_TIMEOUT_S:
            raise TransientError(
                f"meilisearch tasks {sorted(waiting)} unfinished after {TASK_TIMEOUT_S}s"
            )
        if waiting:
            time.sleep(interval)
            interval = min(interval * 1.5, MAX_POLL_S)
    return outcomes


MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024
"""Payloads held in memory until the posting thread has sent them."""
MAX_IN_FLIGHT_TASKS = 64


@dataclass
class _Pending:
    future: Future[int]
    spill: IO[bytes]
    """The payload on disk, read back only to split a failed task."""
    size: int


class Loader:
    """Adds documents with a bounded window of tasks in flight; posts overlap with reading.

    Meilisearch batches the enqueued additions of an index into one indexing
    run, and fewer, larger runs index much faster than many small ones (each
    run's cost grows with the index), so the window is deep in tasks. Memory
    stays flat whatever the table size: a payload is kept in memory only until
    it is posted (bounded in bytes); for splitting a failed task it is spilled
    to a temporary file, deleted once the task has succeeded.
    """

    def __init__(
        self,
        target: Target,
        max_tasks: int = MAX_IN_FLIGHT_TASKS,
        max_bytes: int = MAX_IN_FLIGHT_BYTES,
    ) -> None:
        self.target = target
        self.max_tasks, self.max_bytes = max_tasks, max_bytes
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bootstrap-post")
        self.pending: deque[_Pending] = deque()
        self.failures: list[Failure] = []

    def add(self, docs: list[dict[str, Any]]) -> None:
        if not docs:
            return
        body = dumps(docs)
        while self.pending and len(self.pending) >= self.max_tasks:
            self._settle_oldest()
        self._wait_for_room(len(body))
        spill = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the task is settled
        spill.write(body)
        self.pending.append(_Pending(self.pool.submit(self._post, body), spill, len(body)))

    def _wait_for_room(self, size: int) -> None:
        """Block while the payloads not yet posted would exceed the byte bound."""
        unposted = [p for p in self.pending if not p.future.done()]
        while unposted and sum(p.size for p in unposted) + size > self.max_bytes:
            wait([unposted.pop(0).future])  # the oldest goes first (one posting thread)

    def _post(self, body: bytes) -> int:
        target = self.target
        send = partial(target.http.add_documents, target.uid, body, target.id_field, replace=True)
        return call(send, f"writing to index {target.uid}", target.budget_s)

    def _settle_oldest(self, outcomes: dict[int, TaskOutcome] | None = None) -> None:
        oldest = self.pending.popleft()
        try:
            uid = oldest.future.result()
            task = (outcomes or {}).get(uid) or wait_task(
                self.target.http, uid, self.target.budget_s
            )
            if task.status != "succeeded":
                oldest.spill.seek(0)
                docs = json.loads(oldest.spill.read())
                self.failures += settle(self.target, "replace", docs, task)
        finally:
            oldest.spill.close()

    def finish(self) -> None:
        """Wait until every task has finished; failed documents are in `failures`."""
        try:
            outcomes = wait_all(self.target, [p.future.result() for p in self.pending])
            while self.pending:
                self._settle_oldest(outcomes)
        finally:
            self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        while self.pending:
            self.pending.popleft().spill.close()


def apply_compacted(target: Target, state: Compacted, size: int) -> tuple[int, list[Failure]]:
    """Write the last state of every id: all tasks enqueued together, then awaited together.

    The groups' ids are disjoint, so the tasks commute: they are posted side by side (a
    slow link's round trips overlap) and waited for with one status request per poll.
    A failed task is split until its bad documents are alone. Returns (tasks, failures).
    """
    tasks = list(state.tasks(size))
    if not tasks:
        return 0, []
    with ThreadPoolExecutor(min(len(tasks), MAX_POSTS), thread_name_prefix="catch-up") as pool:
        uids = list(pool.map(lambda task: enqueue(target, *task), tasks))
    outcomes = wait_all(target, uids)
    failures: list[Failure] = []
    for uid, (kind, payload) in zip(uids, tasks, strict=True):
        failures += settle(target, kind, payload, outcomes[uid])
    return len(tasks), failures


def replay(
    target: Target, ops: Iterable[DocumentOp], size: int, hold: int = MAX_HELD
) -> tuple[int, int, list[Failure]]:
    """Apply operations as if in order, compacted per id (`documents.compact`).

    At most `hold` documents are held in memory: a longer stretch goes in pieces, each
    written and awaited before the next is read, so order between pieces is kept.
    Returns (documents written, tasks, failures).
    """
    documents = tasks = 0
    failures: list[Failure] = []
    state = Compacted()
    for op in ops:
        state.add(op)
        if len(state) >= hold:
            sent, failed = apply_compacted(target, state, size)
            documents, tasks, failures = documents + len(state), tasks + sent, failures + failed
            state = Compacted()
    sent, failed = apply_compacted(target, state, size)
    return documents + len(state), tasks + sent, failures + failed
