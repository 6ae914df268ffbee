"""Keeping a bootstrap's lease (and, during catch-up, its consumer fence) alive."""

from __future__ import annotations

import logging
import threading

from cdc_sync.consumer.service import FENCE_POLL_S
from cdc_sync.errors import CdcSyncError
from cdc_sync.state.store import Lease, StateStore

log = logging.getLogger(__name__)

__all__ = ["FENCE_POLL_S", "Keeper", "LeaseLost"]


class LeaseLost(CdcSyncError):
    """The lease expired or was taken over; the run must stop without swapping."""


class Keeper:
    """Renews the lease every ttl/3 in a background thread; renews the fence while set."""

    def __init__(self, store: StateStore, lease: Lease, ttl_s: float, table_name: str) -> None:
        self.store, self.lease, self.ttl_s = store, lease, ttl_s
        self.table_name = table_name
        self.fenced = False
        self.lost: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # a renewal never re-sets a fence just cleared
        self._thread = threading.Thread(target=self._run, name="bootstrap-lease", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                with self._lock:
                    self.lease = self.store.renew(self.lease, self.ttl_s)
                    if self.fenced:
                        self.store.set_fence(self.table_name, self.lease.holder, self.ttl_s)
            except CdcSyncError as exc:
                self.lost = str(exc)
                return
            except Exception as exc:  # the state DB hiccuped: try again next period
                log.warning("could not renew the bootstrap lease: %s", exc)

    def check(self) -> None:
        if self.lost:
            raise LeaseLost(f"bootstrap of {self.table_name} stopped: {self.lost}")

    def fence(self) -> None:
        """Ask consumers to hold this table's writes."""
        with self._lock:
            self.store.set_fence(self.table_name, self.lease.holder, self.ttl_s)
            self.fenced = True

    def unfence(self) -> None:
        with self._lock:
            self.fenced = False
            self.store.clear_fence(self.table_name)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
