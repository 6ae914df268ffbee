"""One table's continuous-verification pass, a chunk (or a page of index ids) per step.

Rows phase: the source's key range in keyset chunks; each chunk's documents are compared
with the same ids in the index. Extras phase: the index's ids in pages; ids whose row is
gone (or outside the filter, or soft-deleted) are suspects. Every suspect is confirmed
once the stream has passed the read (`drift.confirmed`), then repaired (`repair`). The
cursor is saved after each step, so a pass resumes where it stopped; reads are paced.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import meilisearch

from cdc_sync.bootstrap.reader import Row, SourceReader
from cdc_sync.bootstrap.run import map_rows
from cdc_sync.bootstrap.writes import Failure, Target
from cdc_sync.errors import TerminalError
from cdc_sync.ops import metrics
from cdc_sync.sink.indexes import fetch_documents
from cdc_sync.sink.retry import call
from cdc_sync.source.schema import CapturedTable
from cdc_sync.source.sweep import typed_key
from cdc_sync.state.store import StateStore
from cdc_sync.state.verify import VerifyLog
from cdc_sync.verify.bucket import Pacer
from cdc_sync.verify.compare import index_documents
from cdc_sync.verify.cursor import Cursor, PassState
from cdc_sync.verify.drift import KINDS, Document, confirmed, same
from cdc_sync.verify.repair import Drift, Repairer
from cdc_sync.verify.stream import StreamWatch
from cdc_sync.verify.writes import write_repairs

log = logging.getLogger(__name__)

SETTLE_S = 30.0
"""How long a suspect waits for the consumers to pass the read before it is left for the
next pass (they lag: the pass is not the one to judge)."""


@dataclass
class Parts:
    """What a table's pass works with (built by the service)."""

    table: CapturedTable
    reader: SourceReader
    client: meilisearch.Client
    target: Target
    stream: StreamWatch
    source_pace: Pacer
    index_pace: Pacer
    repairer: Repairer | None
    """None: report drift only (`repair = false`)."""
    store: StateStore
    cursors: VerifyLog
    holder: str
    stopping: threading.Event


class TablePass:
    def __init__(self, parts: Parts) -> None:
        self.p = parts
        self.settings = parts.table.settings
        self.name = self.settings.qualified_name
        self.uid, self.id_field = self.settings.index_uid, self.settings.id_field
        self.chunk = max(1, min(1000, int(parts.source_pace.rate)))
        metrics.verify_counters(self.name, KINDS)
        self.reload()

    def reload(self) -> None:
        """The cursor as stored (another verifier may have moved it while it held the table)."""
        self.cursor = Cursor.from_json(self.p.cursors.cursor(self.name))
        if self.cursor.last is not None:  # the gauge survives a restart
            metrics.verify_last_pass(self.name, float(self.cursor.last["ended_at"]))

    # -- reading

    def documents(self, keys: list[list[Any]]) -> dict[str, Document | None]:
        """The source's documents of these keys now (rows that cannot be mapped: left out)."""
        failures: list[Failure] = []
        return self._mapped(self.p.reader.rows_for_keys(keys), failures)

    def _mapped(self, rows: list[Row], failures: list[Failure]) -> dict[str, Document | None]:
        return {str(d[self.id_field]): d for d in map_rows(self.settings, rows, failures)}

    def index_documents(self, ids: list[str]) -> dict[str, Document | None]:
        return dict(index_documents(self.p.client, self.uid, self.id_field, ids))

    def _paced(self, n: int) -> bool:
        """Wait until `n` reads fit both budgets (a chunk reads as many documents as rows, a
        page of ids as many keys): the two are taken together, so a chunk waits once.
        False when stopping meanwhile."""
        wait = max(self.p.source_pace.reserve(n), self.p.index_pace.reserve(n))
        return not self.p.stopping.wait(wait)

    # -- a pass

    def start(self) -> None:
        total = self.p.reader.count() + self._index_total()
        run_id = self.p.store.start_run("verify_pass", self.name, self.p.holder)
        self.cursor.current = PassState(run_id, time.time(), total)
        self._save()
        log.info("verify pass of %s started (%d rows and documents to read)", self.name, total)

    def _index_total(self) -> int:
        body = {"limit": 0}
        found = call(lambda: fetch_documents(self.p.client, self.uid, body), f"reading {self.uid}")
        return int(found["total"])

    def step(self) -> None:
        """One chunk (or page) of the pass under way; the cursor is saved after it."""
        state = self.cursor.current
        assert state is not None
        done = self._rows(state) if state.phase == "rows" else self._extras(state)
        if done is None:
            return  # stopped before reading
        if done and state.phase == "extras":
            self._finish(state)
        elif done:
            state.phase = "extras"
        self._save()

    def _rows(self, state: PassState) -> bool | None:
        if not self._paced(self.chunk):
            return None
        rows = self.p.reader.chunk(self.chunk, state.position)
        state.rows_read += len(rows)
        metrics.verify_rows_read(self.name, len(rows))
        expected, keys = self._keyed_documents(rows)
        actual = self.index_documents(list(expected))
        first = {i: actual.get(i) for i, doc in expected.items() if not same(actual.get(i), doc)}
        self._settle(state, first, keys)
        if rows:
            state.position = [rows[-1][c.name] for c in self.p.reader.key]
        return len(rows) < self.chunk

    def _keyed_documents(self, rows: list[Row]) -> tuple[dict[str, Document], dict[str, list[Any]]]:
        """The rows' documents by id, and each id's key values (to read the row again)."""
        failures: list[Failure] = []
        documents: dict[str, Document] = {}
        keys: dict[str, list[Any]] = {}
        for row in rows:
            for doc in map_rows(self.settings, [row], failures):
                documents[str(doc[self.id_field])] = doc
                keys[str(doc[self.id_field])] = [row[c.name] for c in self.p.reader.key]
        return documents, keys

    def _extras(self, state: PassState) -> bool | None:
        if not self._paced(self.chunk):
            return None
        body = {"fields": [self.id_field], "limit": self.chunk, "offset": state.offset}
        page = call(lambda: fetch_documents(self.p.client, self.uid, body), f"reading {self.uid}")
        ids = [str(d[self.id_field]) for d in page["results"]]
        state.ids_read += len(ids)
        state.offset += len(ids)
        keys = {i: self._typed_key(i) for i in ids}
        self._delete_unkeyed(state, [i for i, k in keys.items() if k is None])
        keyed = {i: k for i, k in keys.items() if k is not None}
        rows = self.p.reader.rows_for_keys(list(keyed.values()))
        metrics.verify_rows_read(self.name, len(rows))
        present = self._present(rows)
        gone = [i for i in keyed if i not in present]
        self._settle(state, self.index_documents(gone), {i: keyed[i] for i in gone})
        return len(ids) < self.chunk

    def _present(self, rows: list[Row]) -> set[str]:
        """Ids of rows that exist: mapped to a document, or refused with the reason (a row
        that cannot be indexed is not a document to delete)."""
        failures: list[Failure] = []
        present = set(self._mapped(rows, failures))
        return present | {key for key, _ in failures if key is not None}

    def _typed_key(self, doc_id: str) -> list[Any] | None:
        try:
            return typed_key(self.p.table, doc_id)
        except (TerminalError, ValueError):
            return None

    def _delete_unkeyed(self, state: PassState, ids: list[str]) -> None:
        """Ids no row of the table can have: extra, and safe to delete at once (the stream
        never writes such an id)."""
        if not ids:
            return
        self._found(state, "extra", len(ids))
        if self.p.repairer is not None:
            failures = write_repairs(self.p.target, [], ids)
            self._repaired(state, "extra", len(ids) - len(failures))

    # -- suspects → drift → repair

    def _settle(
        self, state: PassState, first: dict[str, Document | None], keys: dict[str, list[Any]]
    ) -> None:
        if not first:
            return
        ends = self.p.stream.ends()
        if not self.p.stream.wait_passed(ends, self.p.stopping, SETTLE_S):
            log.info("%s: %d suspects left for the next pass (stream lags)", self.name, len(first))
            return
        expected = self.documents([keys[i] for i in first if i in keys])
        now = self.index_documents(list(first))
        drift = []
        for doc_id, seen in first.items():
            kind = confirmed(expected.get(doc_id), seen, now.get(doc_id))
            if kind is not None:
                drift.append(Drift(doc_id, keys.get(doc_id), kind, now.get(doc_id)))
                self._found(state, kind, 1)
        if drift and self.p.repairer is not None:
            for repaired, n in self.p.repairer.repair(drift).items():
                self._repaired(state, repaired, n)
        if drift:
            log.warning(
                "%s: drift %s", self.name, ", ".join(f"{d.kind} {d.doc_id}" for d in drift[:10])
            )

    def _found(self, state: PassState, kind: str, n: int) -> None:
        state.found[kind] += n
        metrics.verify_drift(self.name, kind, n)

    def _repaired(self, state: PassState, kind: str, n: int) -> None:
        state.repaired[kind] += n
        metrics.verify_repaired(self.name, kind, n)

    # -- bookkeeping

    def _finish(self, state: PassState) -> None:
        ended = time.time()
        last = self.cursor.finish(ended)
        details = {**last, "seconds": round(ended - state.started_at, 3)}
        if state.run_id is not None:
            self.p.store.finish_run(state.run_id, "succeeded", state.rows_read, details=details)
        metrics.verify_last_pass(self.name, ended)
        log.info(
            "verify pass of %s done: %d rows, %d ids in %.1fs; drift %s, repaired %s",
            self.name, state.rows_read, state.ids_read, ended - state.started_at,
            last["found"], last["repaired"],
        )  # fmt: skip

    def _save(self) -> None:
        self.p.cursors.save_cursor(self.name, self.cursor.as_json())
        state = self.cursor.current
        metrics.verify_progress(self.name, state.progress if state else 1.0)
        if state is not None and state.run_id is not None:
            self.p.store.update_run(state.run_id, rows=state.rows_read)

    def wait_note(self, reason: str | None) -> None:
        """Say (in status) why the pass waits; None: it goes on."""
        state = self.cursor.current
        if state is not None and state.waiting != reason:
            state.waiting = reason
            self._save()
