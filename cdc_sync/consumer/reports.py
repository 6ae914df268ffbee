"""What the consumer tells about its troubles: the last error in status and metrics, retries
counted, and recent errors in the state store (for `cdc-sync status` and the dashboard)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from cdc_sync import metrics
from cdc_sync.consumer.interfaces import ConsumerState
from cdc_sync.consumer.stats import ConsumerStats

log = logging.getLogger(__name__)

RECORD_EVERY_S = 1.0
"""At most one error a second reaches the state store (a retry storm must not flood it)."""


class ErrorReport:
    def __init__(
        self, state: ConsumerState, stats: ConsumerStats, clock: Callable[[], float]
    ) -> None:
        self.state = state
        self.stats = stats
        self.clock = clock
        self._recorded_at = -math.inf

    def retry(self, message: str, cause: str = "meilisearch") -> None:
        self.stats.retries += 1
        metrics.retry("consumer", cause)
        self.error(message)

    def error(self, message: str, force: bool = False) -> None:
        self.stats.last_error = message
        metrics.last_error("consumer")
        now = self.clock()
        if force or now - self._recorded_at >= RECORD_EVERY_S:
            self._recorded_at = now
            try:
                self.state.record_error("consumer", message)
            except Exception as exc:  # best effort: the store may be what failed
                log.warning("cannot record error in the state store: %s", exc)
