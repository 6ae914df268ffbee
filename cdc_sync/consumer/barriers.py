"""The consumer's view of the truncate barriers, refreshed from the state store
(`state/truncates.py`), and the decisions that need only the view: which events a
barrier drops, which table it holds, which owned partitions are still to align.
The protocol is in `consumer/truncates.py` and docs/truncates.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.exc import DBAPIError, IntegrityError

from cdc_sync.consumer.interfaces import TruncateStore
from cdc_sync.database_errors import is_connection_problem
from cdc_sync.errors import TransientError
from cdc_sync.events.model import ChangeEvent
from cdc_sync.events.position import Position, position_of
from cdc_sync.kafka.types import Partition
from cdc_sync.state.truncates import Barrier

log = logging.getLogger(__name__)


def unanswered(exc: DBAPIError) -> bool:
    """The store did not answer, or another consumer wrote the same row at that moment:
    asked again later. Any other error is a bug, and goes up as one."""
    return is_connection_problem(exc) or isinstance(exc, IntegrityError)


class Barriers:
    """The consumer's view of the truncate barriers (refreshed from the state store)."""

    def __init__(self, log_: TruncateStore) -> None:
        self.log = log_
        self.view: dict[str, Barrier] = {}
        self._past: dict[Partition, Position] = {}
        """Partitions that already showed an event at or after their table's barrier."""
        self._aligned: dict[Partition, Position] = {}
        """Partitions this process aligned (the view may not show the ack yet)."""
        self._unmarked: list[tuple[str, Position]] = []

    @staticmethod
    def key(table_name: str) -> str:
        return table_name.upper()

    def refresh(self) -> None:
        """Read the barriers again; a state store that does not answer keeps the old view."""
        try:
            for table, position in self._unmarked:
                self.log.mark_enqueued(table, position)
            self._unmarked = []
            self.view = {self.key(t): b for t, b in self.log.barriers().items()}
        except DBAPIError as exc:
            if not unanswered(exc):
                raise
            log.warning(
                "truncate barriers: state store unavailable (%s); keeping the last view", exc
            )

    def announce(self, table_name: str, position: Position, partitions: int) -> Barrier:
        """Record a truncate; the table's barrier afterwards (maybe a later one)."""
        try:
            barrier = self.log.announce(self.key(table_name), position, partitions)
        except DBAPIError as exc:
            if not unanswered(exc):
                raise
            raise TransientError(f"state store: cannot record the truncate: {exc}") from None
        self.view[self.key(table_name)] = barrier
        return barrier

    def drops(self, table_name: str, partition: Partition, event: ChangeEvent) -> bool:
        """Whether a row event lies before its table's barrier (the truncate removed it)."""
        if not self.view:
            return False  # no truncate ever: the common case costs nothing more
        barrier = self.view.get(self.key(table_name))
        if barrier is None or self._past.get(partition) == barrier.position:
            return False
        position = position_of(event)
        if position is None or not position.comparable(barrier.position):
            return False
        if position < barrier.position:
            return True
        self._past[partition] = barrier.position  # positions only grow from here
        return False

    def holds(self, table_name: str) -> Barrier | None:
        """The announced barrier that holds the table's writes, if any."""
        barrier = self.view.get(self.key(table_name))
        return barrier if barrier is not None and barrier.status == "announced" else None

    def to_align(
        self, partitions: list[Partition], topic_table: Callable[[str], str]
    ) -> list[tuple[Partition, Barrier]]:
        """Owned partitions of announced barriers that are not aligned yet."""
        out = []
        for partition in partitions:
            barrier = self.holds(topic_table(partition.topic))
            if barrier is None or partition.partition in barrier.aligned:
                continue
            if self._aligned.get(partition) != barrier.position:
                out.append((partition, barrier))
        return out

    def aligned(self, partition: Partition, barrier: Barrier) -> None:
        try:
            self.log.ack(self.key(barrier.table), partition.partition, barrier.position)
        except DBAPIError as exc:
            if not unanswered(exc):
                raise
            raise TransientError(f"state store: cannot record the alignment: {exc}") from None
        self._aligned[partition] = barrier.position
        self._past.pop(partition, None)
        current = self.view.get(self.key(barrier.table))
        if current is not None and current.position == barrier.position:
            aligned = current.aligned | {partition.partition}
            self.view[self.key(barrier.table)] = replace(current, aligned=aligned)

    def enqueued(self, table_name: str, position: Position) -> None:
        """The clear-all for `position` is in Meilisearch's queue: release the table once that
        is recorded (a restart before would enqueue another clear-all: nothing may precede it)."""
        key = self.key(table_name)
        try:
            self.log.mark_enqueued(key, position)
        except DBAPIError as exc:
            if not unanswered(exc):
                raise
            log.warning("truncate barriers: cannot mark %s enqueued yet (%s)", table_name, exc)
            self._unmarked.append((key, position))
            return
        current = self.view.get(key)
        if current is not None and current.position == position:
            self.view[key] = replace(current, status="enqueued")

    def forget(self, partitions: set[Partition]) -> None:
        """Partitions revoked: a later owner decides about them from the acks."""
        for partition in partitions:
            self._past.pop(partition, None)
            self._aligned.pop(partition, None)
