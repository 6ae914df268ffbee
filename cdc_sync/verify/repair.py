"""How confirmed drift is repaired, per capture mode (the argument is in docs/verify.md).

- trigger: a change-log row per key (`source.repairs.log_changes`): the relay publishes
  the row's current image in stream order;
- timestamp: a request in the state store, which the relay publishes between its polls;
- debezium: written directly under the consumers' fence (`FencedRepair`), after looking
  at source and index once more while no consumer can write the table.

Each returns how many it repaired by kind; ids that are no key of the table (an extra
document nobody's row could have made) are deleted directly, as the stream never writes
such an id.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import meilisearch
from sqlalchemy import Engine, Table

from cdc_sync.bootstrap.hold import FENCE_POLL_S, Keeper
from cdc_sync.bootstrap.run import drain
from cdc_sync.bootstrap.writes import Target
from cdc_sync.source.dialect import Dialect
from cdc_sync.source.repairs import log_changes
from cdc_sync.source.schema import CapturedTable
from cdc_sync.source.timestamp import dump_value
from cdc_sync.state.store import LeaseHeld, StateStore
from cdc_sync.state.verify import VerifyLog
from cdc_sync.verify.drift import Document, Kind, same
from cdc_sync.verify.writes import write_repairs

log = logging.getLogger(__name__)

Documents = Callable[[list[list[Any]]], dict[str, Document | None]]
"""Keys → the source's documents now, by id."""
IndexDocuments = Callable[[list[str]], dict[str, Document | None]]
"""Ids → the index's documents now, by id."""


@dataclass(frozen=True)
class Drift:
    doc_id: str
    key: list[Any] | None
    """The key's values (None: the id is no key of the table)."""
    kind: Kind
    seen: Document | None
    """The index's document when the drift was confirmed."""


class Repairer(Protocol):
    def repair(self, drift: Sequence[Drift]) -> Counter[str]:
        """Repair what it can (keyed drift); how many of each kind. May raise transient errors."""
        ...


def _counted(drift: Sequence[Drift]) -> Counter[str]:
    return Counter(d.kind for d in drift)


class ChangeLogRepair:
    def __init__(self, engine: Engine, dialect: Dialect, changelog: Table, table: CapturedTable):
        self.engine, self.dialect, self.changelog, self.table = engine, dialect, changelog, table

    def repair(self, drift: Sequence[Drift]) -> Counter[str]:
        keyed = [d for d in drift if d.key is not None]
        keys = [d.key for d in keyed if d.key is not None]
        log_changes(self.engine, self.dialect, self.changelog, self.table, keys)
        return _counted(keyed)


class RelayRepair:
    def __init__(self, requests: VerifyLog, table: str) -> None:
        self.requests, self.table = requests, table

    def repair(self, drift: Sequence[Drift]) -> Counter[str]:
        keyed = [d for d in drift if d.key is not None]
        keys = [[dump_value(v) for v in d.key] for d in keyed if d.key is not None]
        self.requests.request_repairs(self.table, keys)
        return _counted(keyed)


class FencedRepair:
    """Debezium tables: the consumers hold the table's writes while this looks again and writes.

    It takes the table's bootstrap lease for that moment (a bootstrap fences the same table,
    so the two never overlap: while one runs, the repair waits for the next chunk).
    """

    def __init__(
        self,
        store: StateStore,
        table: str,
        holder: str,
        ttl_s: float,
        target: Target,
        client: meilisearch.Client,
        documents: Documents,
        index_documents: IndexDocuments,
    ) -> None:
        self.store, self.table, self.holder, self.ttl_s = store, table, holder, ttl_s
        self.target, self.client = target, client
        self.documents, self.index_documents = documents, index_documents

    def repair(self, drift: Sequence[Drift]) -> Counter[str]:
        keyed = [d for d in drift if d.key is not None]
        if not keyed:
            return Counter()
        asked = time.monotonic()
        try:
            lease = self.store.acquire(f"bootstrap:{self.table}", self.holder, self.ttl_s)
        except LeaseHeld as exc:
            log.info("repair of %s waits for the next chunk: %s", self.table, exc)
            return Counter()
        keeper = Keeper(self.store, lease, self.ttl_s, self.table, asked, job="verify repair")
        try:
            keeper.fence()
            time.sleep(max(0.0, keeper.fenced_at + 2 * FENCE_POLL_S + 0.1 - time.monotonic()))
            drain(self.client, self.target.uid, self.target.budget_s)
            return self._write(keyed, keeper)
        finally:
            if keeper.fenced:
                keeper.unfence()
            keeper.stop()
            self.store.release(keeper.lease)

    def _write(self, drift: list[Drift], keeper: Keeper) -> Counter[str]:
        """Under the fence: write the source's document where the index still holds what the
        drift was confirmed on (no consumer wrote it since) and it still differs."""
        expected = self.documents([d.key for d in drift if d.key is not None])
        now = self.index_documents([d.doc_id for d in drift])
        upserts, deletes, done = [], [], Counter[str]()
        for d in drift:
            found, wanted = now.get(d.doc_id), expected.get(d.doc_id)
            if not same(found, d.seen) or same(found, wanted):
                continue
            if wanted is None:
                deletes.append(d.doc_id)
            else:
                upserts.append(dict(wanted))
            done[d.kind] += 1
        keeper.confirm()  # the fence held throughout: nothing the stream applied is undone
        failures = write_repairs(self.target, upserts, deletes)
        for key, reason in failures:
            log.warning("repair of %s %s failed: %s", self.table, key, reason)
        return done
