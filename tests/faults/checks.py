"""Watching invariants while faults are injected: a thread samples the group's committed
offsets, then the indexes, and keeps every violation it sees."""

from __future__ import annotations

import threading
from typing import Any

import meilisearch
from confluent_kafka import KafkaException
from meilisearch.errors import MeilisearchError

from tests.faults.ledger import Ledger
from tests.integration.consumer_support import group_offsets


def documents(client: meilisearch.Client, uid: str) -> dict[str, dict[str, Any]]:
    """The index's documents as they are now (no waiting for tasks); {} before it exists."""
    try:
        page = client.http.post(f"indexes/{uid}/documents/fetch", {"limit": 1_000_000})
    except MeilisearchError as exc:
        if getattr(exc, "code", None) == "index_not_found":
            return {}
        raise
    return {str(d["id"]): d for d in page["results"]}


class CommitWatch(threading.Thread):
    """Samples until stopped; `violations` lists each committed offset found ahead of the index."""

    def __init__(
        self,
        ledger: Ledger,
        client: meilisearch.Client,
        bootstrap: str,
        group: str,
        indexes: dict[str, str],
        every_s: float = 0.5,
    ) -> None:
        super().__init__(daemon=True)
        self.ledger, self.client = ledger, client
        self.bootstrap, self.group, self.indexes = bootstrap, group, indexes
        self.every_s = every_s
        self.samples = self.skipped = 0
        self.violations: list[str] = []
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while not self._halt.wait(self.every_s):
                self.sample()
        except BaseException as exc:
            self.error = exc

    def sample(self) -> None:
        topics = sorted({topic for topic, _ in list(self.ledger.partition_of.values())})
        if not topics:
            return
        try:
            committed = group_offsets(self.bootstrap, self.group, topics)  # first: see ledger
        except (KafkaException, KeyError):
            self.skipped += 1  # the broker is away (restarting): nothing to compare with
            return
        docs = {table: documents(self.client, uid) for table, uid in self.indexes.items()}
        self.violations += self.ledger.violations(committed, docs)
        self.samples += 1

    def stop(self) -> None:
        self._halt.set()
        self.join(30)
        self.sample()  # and once more at the end
        if self.error is not None:
            raise self.error
