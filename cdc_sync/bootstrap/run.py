"""One table's full load: chunks → staging index → catch-up rounds, the last one fenced → swap.

The steps and the argument that no concurrent change is lost are in
docs/bootstrap.md; the numbers (1) to (6) below refer to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import meilisearch
from sqlalchemy import Engine

from cdc_sync.bootstrap.catchup import CatchUp
from cdc_sync.bootstrap.hold import FENCE_POLL_S, Keeper
from cdc_sync.bootstrap.outcome import Outcome, report
from cdc_sync.bootstrap.progress import Meter, Reporter, reporter_for
from cdc_sync.bootstrap.reader import Row, SourceReader
from cdc_sync.bootstrap.rounds import Round, pre_copy
from cdc_sync.bootstrap.writes import Failure, Loader, Target, apply_compacted, wait_task
from cdc_sync.config import Settings, TableSettings
from cdc_sync.documents.compact import compact
from cdc_sync.documents.fields import MappingError, key_of
from cdc_sync.documents.ids import InvalidKey, document_id
from cdc_sync.documents.mapping import Delete, Upsert, document_for_row
from cdc_sync.errors import CdcSyncError
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.kafka.reader import Offsets, end_offsets
from cdc_sync.sink.http import SinkHttp
from cdc_sync.sink.indexes import document_ids, ensure_index, index_exists
from cdc_sync.sink.retry import call
from cdc_sync.state.store import StateStore

log = logging.getLogger(__name__)

STAGING_SUFFIX = "__bootstrap"
CLEANUP_BUDGET_S = 5.0
DRAIN_TIMEOUT_S = 600.0


def staging_uid(live: str) -> str:
    return f"{live}{STAGING_SUFFIX}"


@dataclass(frozen=True)
class Options:
    batch_size: int = 5000
    in_place: bool = False
    terminal: bool | None = None
    """Progress bar (True), log lines (False) or decide from stderr (None)."""


def map_rows(
    table: TableSettings, rows: list[Row], failures: list[Failure]
) -> list[dict[str, Any]]:
    """Rows → documents; a row that cannot be mapped becomes a failure, the rest go on."""
    docs = []
    for row in rows:
        try:
            op = document_for_row(table, row)
        except (MappingError, InvalidKey) as exc:
            failures.append((_key_text(table, row), str(exc)))
            continue
        if isinstance(op, Upsert):
            docs.append(op.document)
    return docs


def _key_text(table: TableSettings, row: Row) -> str | None:
    try:
        return document_id(key_of(table, row))
    except (MappingError, InvalidKey):
        return None


class TableBootstrap:
    """Loads one table; the caller holds nothing — this class takes the lease itself."""

    def __init__(
        self,
        settings: Settings,
        table: TableSettings,
        store: StateStore,
        engine: Engine,
        client: meilisearch.Client,
        holder: str,
        options: Options,
    ) -> None:
        self.settings, self.table, self.store = settings, table, store
        self.engine, self.client, self.holder, self.options = engine, client, holder, options
        self.live = table.index_uid
        self.staging = staging_uid(self.live)
        self.target_uid = self.live if options.in_place else self.staging
        self.budget = settings.consumer.retry_max_s * 4
        """How long a Meilisearch call retries transient faults before the run gives up."""
        self.http = SinkHttp(settings.meilisearch)
        self.target = Target(client, self.http, self.target_uid, table.id_field, self.budget)
        self.hooks: dict[str, Callable[[], None]] = {}
        """Test and bench hooks by step name: 'loaded', 'fenced', 'swapped'."""

    def _hook(self, name: str) -> None:
        if name in self.hooks:
            self.hooks[name]()

    def run(self) -> Outcome:
        name = self.table.qualified_name
        run_id = self.store.start_run("bootstrap", name, self.holder)
        ttl = self.settings.state.lease_ttl_s
        asked = time.monotonic()
        try:
            lease = self.store.acquire(f"bootstrap:{name}", self.holder, ttl, run_id)
        except CdcSyncError as exc:
            self.store.finish_run(run_id, "refused", 0, error=f"refused: {exc}")
            raise
        keeper = Keeper(self.store, lease, ttl, name, taken_at=asked)
        outcome = Outcome(name, self.live, run_id)
        try:
            self._load_and_swap(keeper, outcome)
        except BaseException as exc:
            self._fail(outcome, exc)
            raise
        finally:
            keeper.stop()
            _best_effort("releasing the lease", lambda: self.store.release(keeper.lease))
        self.store.add_failures(run_id, outcome.failures)
        self.store.finish_run(
            run_id,
            "succeeded",
            outcome.rows,
            details={
                "index": self.live,
                "documents": outcome.documents,
                "replayed": outcome.replayed,
                "mode": "in-place" if self.options.in_place else "swap",
                **outcome.catch_up(),
            },
        )
        return outcome

    def _fail(self, outcome: Outcome, exc: BaseException) -> None:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, KeyboardInterrupt):
            reason = "interrupted"

        def record() -> None:
            self.store.add_failures(outcome.run_id, outcome.failures)
            details = outcome.catch_up() if outcome.fence_s is not None else None
            self.store.finish_run(
                outcome.run_id, "failed", outcome.rows, error=reason, details=details
            )
            self.store.record_error("bootstrap", f"{outcome.table}: {reason}")

        # the cause is what the user must see, even when the state store is what failed
        _best_effort("recording the failed run", record)
        if not self.options.in_place:
            # Meilisearch may be what failed: one short try, else the next run deletes it
            self._drop_staging(quiet=True, budget=min(self.budget, CLEANUP_BUDGET_S))

    def _drop_staging(self, quiet: bool = False, budget: float | None = None) -> None:
        budget = self.budget if budget is None else budget
        try:
            if self._exists(self.staging, budget):
                deleting = call(
                    lambda: self.client.delete_index(self.staging).task_uid, "delete", budget
                )
                wait_task(self.http, deleting, budget)
                log.info("deleted staging index %s", self.staging)
        except Exception as exc:
            if not quiet:
                raise
            log.warning("left staging index %s for the next run to delete: %s", self.staging, exc)

    def _load_and_swap(self, keeper: Keeper, outcome: Outcome) -> None:
        reader = SourceReader(self.engine, self.table, time_zone=self.settings.source.time_zone)
        topic = self.settings.topic_of(self.table)
        # Kafka's steps, Meilisearch's and counting the rows (for progress only) are
        # independent: they overlap; all are done (P0 recorded, indexes ready) before the
        # first chunk is read.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="bootstrap-setup") as setup:
            starting = setup.submit(self._start_offsets, topic)
            counting = setup.submit(reader.count)
            if not self.options.in_place:
                self._drop_staging()  # a crashed run's leftover
            self._prepare_indexes()
            start = starting.result()  # (1) P0
            total = counting.result()
        seen = self._load(reader, keeper, outcome, total)  # (2)
        self._hook("loaded")
        began = time.monotonic()
        if seen is not None:  # in place: before the rounds, which bring back what came since
            outcome.failures += self._delete_extras(seen)
        topic = self.settings.topic_of(self.table)
        catch_up = CatchUp(
            self.settings.kafka, self.table, topic, self.target, self.options.batch_size
        )
        try:
            self._catch_up_and_swap(keeper, catch_up, start, outcome)
        finally:
            outcome.failures += catch_up.failures
            outcome.replayed = catch_up.operations
            outcome.catch_up_s = time.monotonic() - began
            outcome.fence_s = keeper.held_s
            if outcome.fence_s is not None:  # a run that fails after its fence reports it too
                report(outcome, self.settings.bootstrap.fence_warn_s)
        if not self.options.in_place:
            self._drop_staging(quiet=True)  # the old live index: else the next run deletes it
        self._hook("swapped")

    def _catch_up_and_swap(
        self, keeper: Keeper, catch_up: CatchUp, start: Offsets, outcome: Outcome
    ) -> None:
        """(3) rounds without the fence, (4) the fence, (5) the last window, (6) swap, unfence."""

        def ends() -> Offsets:
            return end_offsets(self.settings.kafka, catch_up.topic)

        def unfenced(begin: Offsets, end: Offsets) -> Round:
            keeper.check()
            return catch_up.window(begin, end)

        position, outcome.rounds = pre_copy(start, ends, unfenced)  # (3)
        try:
            keeper.fence()  # (4)
            time.sleep(max(0.0, keeper.fenced_at + 2 * FENCE_POLL_S + 0.1 - time.monotonic()))
            self._hook("fenced")
            end = ends()  # (5) E: all the consumers will write until the swap was read before
            draining = Background(lambda: self._drain(self.live), "bootstrap-drain")
            outcome.rounds.append(catch_up.window(position, end, fenced=True))
            draining.wait()  # the consumers' tasks on the live index
            keeper.confirm()  # the fence never lapsed: no consumer wrote to the live index
            if not self.options.in_place:
                self._swap()  # (6)
        finally:
            if keeper.fenced:
                _best_effort("lifting the fence", keeper.unfence)  # else it lapses after its TTL

    def _start_offsets(self, topic: str) -> Offsets:
        ensure_topics(self.settings.kafka, [topic])
        return end_offsets(self.settings.kafka, topic)

    def _exists(self, uid: str, budget: float) -> bool:
        return call(lambda: index_exists(self.client, uid), f"reading index {uid}", budget)

    def _prepare_indexes(self) -> None:
        budget = self.budget
        if not self._exists(self.live, budget):
            ensure_index(self.client, self.live, self.table, budget)  # so the swap has a partner
        if not self.options.in_place:
            ensure_index(self.client, self.staging, self.table, budget)  # settings before load
        else:
            ensure_index(self.client, self.live, self.table, budget)

    def _load(
        self, reader: SourceReader, keeper: Keeper, outcome: Outcome, total: int
    ) -> set[str] | None:
        """(2) Every chunk into the target index; returns the ids seen (in-place only)."""
        seen: set[str] | None = set() if self.options.in_place else None
        meter = Meter(total=total)
        reporter: Reporter = reporter_for(self.table.qualified_name, self.options.terminal)
        loader = Loader(self.target)
        last_update = time.monotonic()
        try:
            for rows in reader.chunks(self.options.batch_size):
                keeper.check()
                docs = map_rows(self.table, rows, outcome.failures)
                loader.add(docs)
                if seen is not None:
                    seen.update(d[self.table.id_field] for d in docs)
                outcome.rows += len(rows)
                outcome.documents += len(docs)
                meter.advance(len(rows))
                reporter.update(meter)
                if time.monotonic() - last_update > 5:
                    self.store.update_run(outcome.run_id, rows=outcome.rows)
                    last_update = time.monotonic()
            loader.finish()
        finally:
            loader.close()
            reporter.close(meter)
        outcome.failures += loader.failures
        outcome.documents -= len(loader.failures)
        return seen

    def _drain(self, uid: str) -> None:
        drain(self.client, uid, self.budget)

    def _delete_extras(self, seen: set[str]) -> list[Failure]:
        """In place: documents whose keys are no longer in the source go."""
        extras: list[str] = []
        for ids in document_ids(self.client, self.live, self.table.id_field, 10_000, self.budget):
            extras.extend(i for i in ids if i not in seen)
        gone = compact(Delete(doc_id) for doc_id in extras)
        _, failures = apply_compacted(self.target, gone, self.options.batch_size)
        log.info("deleted %d documents no longer in %s", len(extras), self.table.qualified_name)
        return failures

    def _swap(self) -> None:
        swap: list[Mapping[str, list[str] | bool]] = [{"indexes": [self.live, self.staging]}]
        swapping = call(lambda: self.client.swap_indexes(swap), "swap", self.budget).task_uid
        task = wait_task(self.http, swapping, self.budget)
        if task.status != "succeeded":
            raise CdcSyncError(f"swapping {self.staging} into {self.live} failed: {task.error}")
        log.info("swapped %s into %s", self.staging, self.live)


class Background:
    """`step` in a daemon thread: a run stopped meanwhile (Ctrl-C, SIGTERM) exits at once
    instead of waiting for it."""

    def __init__(self, step: Callable[[], None], name: str) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(step,), name=name, daemon=True)
        self._thread.start()

    def _run(self, step: Callable[[], None]) -> None:
        try:
            step()
        except BaseException as exc:  # handed to the waiting thread
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def drain(client: meilisearch.Client, uid: str, budget_s: float) -> None:
    """Wait until Meilisearch has no enqueued or processing task for `uid`."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    query = {"indexUids": [uid], "statuses": ["enqueued", "processing"], "limit": 1}

    def busy() -> Any:
        return client.get_tasks(dict(query)).results

    while call(busy, "listing tasks", budget_s):
        if time.monotonic() > deadline:
            raise CdcSyncError(f"tasks on index {uid} did not finish within the drain timeout")
        time.sleep(0.05)


def _best_effort(what: str, step: Callable[[], None]) -> None:
    """Clean-up whose failure must not hide the run's own outcome (the state store may be
    what failed); what it leaves behind lapses or is cleaned up by the next run."""
    try:
        step()
    except Exception as exc:
        log.warning("%s failed: %s", what, exc)
