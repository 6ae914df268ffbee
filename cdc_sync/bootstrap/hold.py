"""Keeping a bootstrap's lease (and, during catch-up, its consumer fence) alive; the
continuous verifier keeps its leases (and a repair's fence) the same way (`job`).

The lease and the fence expire `ttl` after their last renewal, so a crashed run frees
its table within `ttl`. A live run renews both every `ttl / 3` (sooner after a failed
attempt). It only counts on them while it can prove they never lapsed: up to `ttl`
after the start of its last successful renewal, measured on its own monotonic clock.
Past that, another run may have taken the table and consumers may have written to the
live index, so the run stops (`LeaseLost`) and, above all, never swaps.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cdc_sync.errors import CdcSyncError
from cdc_sync.state.records import Lease
from cdc_sync.state.store import FENCE_POLL_S, StateStore

log = logging.getLogger(__name__)

__all__ = ["FENCE_POLL_S", "Keeper", "LeaseLost"]

RETRY_S = 1.0
"""The pause after a failed renewal, at most (a third of the TTL if that is shorter)."""


class LeaseLost(CdcSyncError):
    """The lease expired or was taken over; the run must stop without swapping."""


class Keeper:
    """Renews the lease, and the fence while it is set, in a background thread."""

    def __init__(
        self,
        store: StateStore,
        lease: Lease,
        ttl_s: float,
        table_name: str,
        taken_at: float,
        clock: Callable[[], float] = time.monotonic,
        job: str = "bootstrap",
    ) -> None:
        """`taken_at`: the `clock` reading just before the lease was asked for; `job` names
        what holds it in messages."""
        self.store, self.lease, self.ttl_s = store, lease, ttl_s
        self.table_name = table_name
        self.job = job
        self.fenced = False
        self.fenced_at = 0.0
        """When the fence was last raised (monotonic clock)."""
        self.held_s: float | None = None
        """How long the fence held the table's live changes, once it was lifted."""
        self.lost: str | None = None
        self._clock = clock
        self._valid_until = taken_at + ttl_s
        self._stop = threading.Event()
        self._lock = threading.Lock()  # a renewal never re-sets a fence just cleared
        self._thread = threading.Thread(target=self._run, name=f"{job}-lease", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pause = self.ttl_s / 3
        while not self._stop.wait(pause):
            try:
                self._renew()
                pause = self.ttl_s / 3
            except LeaseLost as exc:
                self.lost = str(exc)
                return
            except Exception as exc:  # the state store hiccuped: try again soon
                job, table = self.job, self.table_name
                log.warning("could not renew the %s lease of %s: %s", job, table, exc)
                pause = min(RETRY_S, self.ttl_s / 3)

    def _renew(self) -> None:
        """Renew the lease (and the fence) now; LeaseLost if they may have lapsed before."""
        with self._lock:
            started = self._clock()
            if started > self._valid_until:
                raise LeaseLost(self._lapsed(started))
            try:
                self.lease = self.store.renew(self.lease, self.ttl_s)
            except CdcSyncError as exc:  # taken over by another run
                raise LeaseLost(f"{self.job} of {self.table_name} stopped: {exc}") from None
            if self.fenced:
                self.store.set_fence(self.table_name, self.lease.holder, self.ttl_s)
            self._valid_until = started + self.ttl_s

    def _lapsed(self, now: float) -> str:
        late = now - self._valid_until + self.ttl_s
        what = "lease and consumer fence" if self.fenced else "lease"
        return (
            f"{self.job} of {self.table_name} stopped: its {what} could not be renewed for "
            f"{late:.1f}s (lease_ttl_s = {self.ttl_s:g}), so another run or the consumers "
            "may have used the table meanwhile"
        )

    def check(self) -> None:
        """Raise LeaseLost unless the lease (and fence) are known to be held."""
        if self.lost:
            raise LeaseLost(self.lost)
        now = self._clock()
        if now > self._valid_until:
            raise LeaseLost(self._lapsed(now))

    def confirm(self) -> None:
        """Renew now and prove nothing lapsed: the last step before an irreversible one."""
        self.check()
        try:
            self._renew()
        except LeaseLost:
            raise
        except Exception as exc:
            raise LeaseLost(
                f"{self.job} of {self.table_name} stopped: cannot confirm its lease: {exc}"
            ) from None

    def fence(self) -> None:
        """Ask consumers to hold this table's writes."""
        with self._lock:
            started = self._clock()
            self.store.set_fence(self.table_name, self.lease.holder, self.ttl_s)
            self.fenced = True
            self.fenced_at = time.monotonic()
            # the lease outlives the fence: it was renewed no later than the fence was set
            self._valid_until = min(self._valid_until, started + self.ttl_s)

    def unfence(self) -> None:
        with self._lock:
            self.fenced = False
            try:
                self.store.clear_fence(self.table_name)
            finally:  # not lifted: it lapses within the TTL, at the latest
                self.held_s = time.monotonic() - self.fenced_at

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
