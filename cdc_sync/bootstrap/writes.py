"""Writing documents to Meilisearch for bootstrap, catch-up and repair.

Every call retries transient faults (`classify`) with backoff; a task that fails
because of bad documents is split until the bad ones are isolated, so the good
ones are still written and the bad ones are reported as failures.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar

import meilisearch
from meilisearch.models.task import TaskInfo
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from cdc_sync.errors import DependencyUnavailable, TransientError
from cdc_sync.sink.documents import Delete, DocumentOp, Upsert
from cdc_sync.sink.meili import classify

log = logging.getLogger(__name__)

T = TypeVar("T")
Failure = tuple[str | None, str]
"""(document id or None, reason)."""
Kind = Literal["replace", "update", "delete", "clear"]
TASK_TIMEOUT_S = 600.0


class Truncate:
    """Every document of the index goes (a truncate event)."""


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, Exception) and isinstance(classify(exc), TransientError)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning("meilisearch call failed (attempt %d), retrying: %s", state.attempt_number, exc)


def call(fn: Callable[[], T], what: str, budget_s: float = 60.0) -> T:
    """Run a Meilisearch call, retrying transient faults for up to `budget_s` seconds."""
    retrying = Retrying(
        retry=retry_if_exception(_transient),
        stop=stop_after_delay(budget_s),
        wait=wait_exponential_jitter(multiplier=0.2, max=5),
        before_sleep=_log_retry,
        reraise=True,
    )
    try:
        return retrying(fn)
    except Exception as exc:
        problem = classify(exc)
        if isinstance(problem, TransientError):
            raise DependencyUnavailable(f"{what}: {problem}") from None
        raise problem from exc


def wait_task(client: meilisearch.Client, task_uid: int, budget_s: float = 60.0) -> Any:
    """Wait for a task to finish (any status) and return it."""
    return call(
        lambda: client.wait_for_task(
            task_uid, timeout_in_ms=int(TASK_TIMEOUT_S * 1000), interval_in_ms=25
        ),
        f"waiting for meilisearch task {task_uid}",
        budget_s,
    )


@dataclass(frozen=True)
class Target:
    """An index to write to, with its primary-key field and the retry budget."""

    client: meilisearch.Client
    uid: str
    id_field: str = "id"
    budget_s: float = 60.0

    def ids(self, docs: list[Any]) -> list[str | None]:
        return [d if isinstance(d, str) else (d or {}).get(self.id_field) for d in docs]


def enqueue(target: Target, kind: Kind, payload: list[Any]) -> int:
    index = target.client.index(target.uid)
    if kind == "replace":
        send: Callable[[], Any] = lambda: index.add_documents(payload)  # noqa: E731
    elif kind == "update":
        send = lambda: index.update_documents(payload)  # noqa: E731
    elif kind == "delete":
        path = f"indexes/{target.uid}/documents/delete-batch"
        send = lambda: TaskInfo(**target.client.http.post(path, payload))  # noqa: E731
    else:
        send = index.delete_all_documents
    return int(call(send, f"writing to index {target.uid}", target.budget_s).task_uid)


def write_isolating(target: Target, kind: Kind, docs: list[Any]) -> list[Failure]:
    """Write and wait; on a failed task split it in halves until the bad documents are alone."""
    task = wait_task(target.client, enqueue(target, kind, docs), target.budget_s)
    return settle(target, kind, docs, task)


def settle(target: Target, kind: Kind, docs: list[Any], task: Any) -> list[Failure]:
    if task.status == "succeeded":
        return []
    reason = (task.error or {}).get("message", str(task.status))
    if len(docs) <= 1 or kind in ("delete", "clear"):
        return [(i, f"meilisearch: {reason}") for i in target.ids(docs) or [None]]
    half = len(docs) // 2
    return write_isolating(target, kind, docs[:half]) + write_isolating(target, kind, docs[half:])


MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024
MAX_IN_FLIGHT_TASKS = 16


class Loader:
    """Adds documents with a bounded window of tasks in flight; posts overlap with reading.

    Meilisearch auto-batches consecutive enqueued additions, so a window of
    several tasks indexes about as fast as one big upload. The window is bounded
    in tasks and in serialized bytes (payloads are kept as JSON bytes, not
    objects, so a failed task can still be split), so memory stays flat
    whatever the table size.
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
        self.pending: deque[tuple[Future[int], bytes]] = deque()
        self.bytes = 0
        self.failures: list[Failure] = []

    def add(self, docs: list[dict[str, Any]]) -> None:
        if not docs:
            return
        body = json.dumps(docs, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        while self.pending and (
            len(self.pending) >= self.max_tasks or self.bytes + len(body) > self.max_bytes
        ):
            self._settle_oldest()
        self.pending.append((self.pool.submit(self._post, body), body))
        self.bytes += len(body)

    def _post(self, body: bytes) -> int:
        index = self.target.client.index(self.target.uid)
        send = partial(index.add_documents_raw, body, content_type="application/json")
        return int(call(send, f"writing to index {self.target.uid}", self.target.budget_s).task_uid)

    def _settle_oldest(self) -> None:
        future, body = self.pending.popleft()
        self.bytes -= len(body)
        task = wait_task(self.target.client, future.result(), self.target.budget_s)
        if task.status != "succeeded":
            self.failures += settle(self.target, "replace", json.loads(body), task)

    def finish(self) -> None:
        """Wait until every task has finished; failed documents are in `failures`."""
        try:
            while self.pending:
                self._settle_oldest()
        finally:
            self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _kind(op: DocumentOp | Truncate) -> Kind:
    if isinstance(op, Truncate):
        return "clear"
    if isinstance(op, Delete):
        return "delete"
    return "update" if op.partial else "replace"


def _payload(op: DocumentOp | Truncate) -> Any:
    if isinstance(op, Upsert):
        return op.document
    return op.doc_id if isinstance(op, Delete) else None


def runs_of(ops: Iterable[DocumentOp | Truncate], limit: int) -> Iterable[tuple[Kind, list[Any]]]:
    """Consecutive operations of one kind, at most `limit` each, in their original order.

    Within a run the last operation per id wins (partial updates merge), so a
    single task never carries two versions of one document.
    """
    kind: Kind | None = None
    batch: dict[str, Any] = {}
    for op in ops:
        op_kind = _kind(op)
        if kind is not None and (op_kind != kind or len(batch) >= limit or kind == "clear"):
            yield kind, list(batch.values())
            batch = {}
        kind = op_kind
        if isinstance(op, Truncate):
            batch["*"] = None
        elif isinstance(op, Upsert) and op.partial and op.doc_id in batch:
            batch[op.doc_id] = {**batch[op.doc_id], **op.document}
        else:
            batch.pop(op.doc_id, None)
            batch[op.doc_id] = _payload(op)
    if kind is not None and batch:
        yield kind, list(batch.values())


def apply_in_order(
    target: Target, ops: Iterable[DocumentOp | Truncate], batch: int = 5000
) -> tuple[int, list[Failure]]:
    """Apply operations in order (Meilisearch runs an index's tasks in enqueue order); wait.

    A failed task is retried in halves only for documents no later operation
    replaces, so a retry never undoes a newer change.
    """
    enqueued: list[tuple[int, Kind, list[Any]]] = []
    applied = 0
    for kind, payload in runs_of(ops, batch):
        enqueued.append((enqueue(target, kind, payload), kind, payload))
        applied += len(payload)
    failures: list[Failure] = []
    for i, (task_uid, kind, payload) in enumerate(enqueued):
        task = wait_task(target.client, task_uid, target.budget_s)
        if task.status == "succeeded":
            continue
        later = enqueued[i + 1 :]
        if any(k == "clear" for _, k, _ in later):
            continue
        newer = {x for _, _, p in later for x in target.ids(p)}
        still = [d for d, x in zip(payload, target.ids(payload), strict=True) if x not in newer]
        failures += settle(target, kind, still, task) if still else []
    return applied, failures
