"""Bootstrap's fences as the consumer sees them: a fenced table's batches wait, in order,
until bootstrap lifts the fence (docs/bootstrap.md)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable

from cdc_sync import metrics
from cdc_sync.consumer.interfaces import ConsumerState
from cdc_sync.state.store import FENCE_POLL_S, StateStoreUnavailable

log = logging.getLogger(__name__)


class Fences:
    """The fenced tables, asked of the state store at most every FENCE_POLL_S (bootstrap waits
    longer than that before it relies on the fence). A store that does not answer holds every
    table: a bootstrap may have fenced any of them meanwhile."""

    def __init__(
        self,
        state: ConsumerState,
        tables: Iterable[str],
        clock: Callable[[], float],
        report: Callable[[str], None],
    ) -> None:
        self.state = state
        self.all = {name.upper() for name in tables}
        self.clock = clock
        self.report = report
        """Called with the problem while the store does not answer."""
        self._fenced: set[str] = set()
        self._asked_at = -math.inf
        self._store_lost = False

    def holds(self, table_name: str) -> bool:
        return table_name.upper() in self._current()

    def _current(self) -> set[str]:
        now = self.clock()
        if now - self._asked_at < FENCE_POLL_S:
            return self._fenced
        self._asked_at = now
        try:
            self._fenced = {name.upper() for name in self.state.fenced_tables()}
        except StateStoreUnavailable as exc:
            self._fenced = self.all
            metrics.retry("consumer", "state_store")
            message = f"{exc}; holding every table's writes until it answers"
            if not self._store_lost:
                log.warning("%s", message)
            self._store_lost = True
            self.report(message)
            return self._fenced
        if self._store_lost:
            log.info("the state store answers again; bootstrap fences are known")
            self._store_lost = False
        return self._fenced
