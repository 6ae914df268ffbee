"""`cdc-sync verify --continuous`: every configured table verified in passes, for ever.

One loop over the tables: for each, hold its lease (`verify:<TABLE>`, one runner per
table across hosts, renewed in the background), start a pass when one is due (`every`
after the last start), wait while the consumers lag, and verify one chunk. A failing
dependency backs that table off; SIGTERM ends the loop after the chunk under way.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field

from cdc_sync.bootstrap.hold import Keeper, LeaseLost
from cdc_sync.config import Settings
from cdc_sync.errors import CdcSyncError, ConfigError
from cdc_sync.ops import metrics
from cdc_sync.state.store import LeaseHeld, StateStore
from cdc_sync.verify.build import Plan, build_passes
from cdc_sync.verify.cursor import next_pass_at
from cdc_sync.verify.passes import TablePass

log = logging.getLogger(__name__)

IDLE_S = 0.5
BACKOFF_S = (1.0, 60.0)
"""The pause after a failed step, doubling from the first to the second."""


@dataclass
class Slot:
    """A table as the loop keeps it: its pass, plan, lease and backoff."""

    run: TablePass
    plan: Plan
    keeper: Keeper | None = None
    retry_at: float = 0.0
    backoff_s: float = 0.0
    lag_checked_at: float = field(default=0.0)


class ContinuousVerifier:
    def __init__(self, settings: Settings, store: StateStore, holder: str) -> None:
        self.settings, self.store, self.holder = settings, store, holder
        self.stopping = threading.Event()
        self.slots: list[Slot] = []
        self.started = False

    def run(self) -> None:
        enabled = [t for t in self.settings.tables if t.verify.enabled]
        if not enabled:
            raise ConfigError(["tables: no table to verify (every table has verify = false)"])
        self.slots = [Slot(run, plan) for run, plan in build_passes(self, enabled)]
        self.started = True
        try:
            while not self.stopping.is_set():
                if not any([self._tick(slot) for slot in self.slots]):
                    self.stopping.wait(IDLE_S)
        finally:
            for slot in self.slots:
                self._let_go(slot)

    def details(self) -> dict[str, object]:
        """For the endpoint's overview: tables held and passes under way."""
        held = [s for s in self.slots if s.keeper is not None]
        running = [s for s in held if s.run.cursor.current is not None]
        return {"tables held": len(held), "passes under way": len(running)}

    def _tick(self, slot: Slot) -> bool:
        """One step of one table if it is its turn; whether it did work."""
        now = time.monotonic()
        if self.stopping.is_set() or now < slot.retry_at or not self._hold(slot):
            return False
        try:
            return self._step(slot)
        except LeaseLost as exc:
            log.warning("%s", exc)
            self._let_go(slot)
        except (CdcSyncError, Exception) as exc:
            self._back_off(slot, exc)
        return False

    def _step(self, slot: Slot) -> bool:
        run = slot.run
        if run.cursor.current is None:
            now = time.time()
            if now < next_pass_at(run.cursor, slot.plan.every_s, now):
                return False
            run.start()
        if self._lagging(slot):
            return False
        assert slot.keeper is not None
        slot.keeper.check()
        run.step()
        slot.backoff_s = 0.0
        return True

    def _lagging(self, slot: Slot) -> bool:
        """Whether the consumers lag above `max_lag` (asked at most once a second)."""
        if time.monotonic() - slot.lag_checked_at < 1.0:
            current = slot.run.cursor.current
            return current is not None and current.waiting is not None
        slot.lag_checked_at = time.monotonic()
        lag = slot.run.p.stream.lag()
        reason = None
        if lag > slot.plan.max_lag:
            reason = f"consumer lag {lag:,} > max_lag {slot.plan.max_lag:,}"
        slot.run.wait_note(reason)
        return reason is not None

    def _hold(self, slot: Slot) -> bool:
        if slot.keeper is not None:
            return True
        name = slot.run.name
        asked = time.monotonic()
        ttl = self.settings.state.lease_ttl_s
        try:
            lease = self.store.acquire(f"verify:{name}", self.holder, ttl)
        except LeaseHeld as exc:
            log.debug("%s", exc)
            slot.retry_at = time.monotonic() + ttl / 2
            return False
        log.info("verifying %s (lease verify:%s)", name, name)
        slot.keeper = Keeper(self.store, lease, ttl, name, asked, job="verify")
        slot.run.reload()
        return True

    def _let_go(self, slot: Slot) -> None:
        keeper, slot.keeper = slot.keeper, None
        if keeper is None:
            return
        keeper.stop()
        try:
            self.store.release(keeper.lease)
        except Exception as exc:
            log.warning("releasing %s failed (it lapses): %s", keeper.lease.name, exc)

    def _back_off(self, slot: Slot, exc: BaseException) -> None:
        first, most = BACKOFF_S
        slot.backoff_s = min(most, slot.backoff_s * 2 or first)
        slot.retry_at = time.monotonic() + slot.backoff_s
        first_line = (str(exc).splitlines() or [""])[0]
        message = f"verify {slot.run.name}: {type(exc).__name__}: {first_line}"
        log.warning("%s (again in %.0fs)", message, slot.backoff_s)
        metrics.last_error("verifier")
        with contextlib.suppress(Exception):  # the store may be what failed
            self.store.record_error("verifier", message)
