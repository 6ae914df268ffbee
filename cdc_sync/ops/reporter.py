"""Publishes a service's per-table activity to the state store, so any process can show it.

A daemon thread writes `Activity.report()` every few seconds (and once more on
stop), so the service's own loop never waits on the state store. Failures are
logged and retried at the next interval: status is best effort, the pipeline
is not.
"""

from __future__ import annotations

import logging
import threading

from cdc_sync.metrics.activity import Activity
from cdc_sync.state.store import StateStore

log = logging.getLogger(__name__)

REPORT_INTERVAL_S = 5.0


class Reporter:
    def __init__(
        self,
        state_url: str,
        component: str,
        holder: str,
        activity: Activity,
        interval_s: float = REPORT_INTERVAL_S,
    ) -> None:
        self.state_url = state_url
        self.component = component
        self.holder = holder
        self.activity = activity
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"cdc-sync-{component}-reports")
        self._thread.daemon = True
        self._store: StateStore | None = None

    def start(self) -> Reporter:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop and publish the final numbers."""
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                self.publish()
            self.publish()
        finally:
            if self._store is not None:
                self._store.close()

    def publish(self) -> None:
        reports = self.activity.report()
        if not reports:
            return
        try:
            if self._store is None:
                self._store = StateStore(self.state_url, retry_s=0.0)  # next round retries
            self._store.publish_reports(self.component, self.holder, reports)
        except Exception as exc:
            log.warning("cannot publish %s status to the state store: %s", self.component, exc)
