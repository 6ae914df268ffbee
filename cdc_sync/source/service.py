"""The relay service: trigger-mode batches and timestamp polls in one loop, with retries."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, Table
from sqlalchemy.exc import DBAPIError, OperationalError

from cdc_sync import metrics
from cdc_sync.config import Settings
from cdc_sync.database_url import normalise_url
from cdc_sync.errors import ConfigError, DependencyUnavailable, TransientError
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.kafka.producer import Producer
from cdc_sync.retry import Retry, RetryNote, Stopped, stoppable
from cdc_sync.sink.meili import meili_client
from cdc_sync.source.changelog import changelog_table
from cdc_sync.source.database import create_source_engine
from cdc_sync.source.dialect import Dialect
from cdc_sync.source.dialects import dialect_for
from cdc_sync.source.install import changelog_exists
from cdc_sync.source.relay import TriggerRelay
from cdc_sync.source.repairs import RepairDrain
from cdc_sync.source.schema import CapturedTable
from cdc_sync.source.sweep import DeleteSweep
from cdc_sync.source.tables import reflect_tables
from cdc_sync.source.timestamp import TimestampPoller
from cdc_sync.source.wakeup import ChannelListener, Pacer, Round, Sleeper, Waiter
from cdc_sync.source.zone import resolve_zone
from cdc_sync.state.store import StateStore, StateStoreUnavailable
from cdc_sync.state.verify import VerifyLog

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientError | OperationalError | StateStoreUnavailable):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class RelayService:
    def __init__(self, settings: Settings, state: StateStore, once: bool = False) -> None:
        self.settings = settings
        self.state = state
        self.once = once
        self.stopping = threading.Event()
        self.relay: TriggerRelay | None = None
        self.pollers: list[TimestampPoller] = []
        self.sweeps: list[DeleteSweep] = []
        self.repairs: RepairDrain | None = None
        """Timestamp tables: documents the continuous verifier asks to publish again."""
        self.dialect: Dialect | None = None
        self.published = 0
        self.engine: Engine | None = None
        self.producer: Producer | None = None

    def _report(self, note: RetryNote) -> None:
        metrics.retry("relay", type(note.cause).__name__)
        metrics.last_error("relay")
        # the store may be what failed (it may live on the source's server)
        with contextlib.suppress(StateStoreUnavailable):
            self.state.record_error("relay", note.message)

    def _call(self, what: str, fn: Callable[[], T], budget_s: float | None = None) -> T:
        """Transient faults retried for `budget_s` seconds (None or 0: until they pass)."""
        retry = Retry(
            is_transient,
            first_s=0.2,
            max_s=30,
            budget_s=budget_s or None,
            sleep=stoppable(self.stopping),
            on_retry=self._report,
            logger=log,
        )
        return retry.call(f"relay: {what}", fn)

    def start(self) -> None:
        """Check the config against the database and create missing topics (exit 2 / 3)."""
        settings = self.settings
        wanted = [(i, t) for i, t in enumerate(settings.tables) if t.capture != "debezium"]
        if not wanted:
            raise ConfigError(["tables: no table has capture = 'trigger' or 'timestamp'"])
        url = normalise_url(settings.source.url.get_secret_value())
        self.dialect = dialect = dialect_for(url.get_dialect()(), notify=settings.source.notify)
        options = dialect.engine_options(settings.relay.batch_size)
        self.engine = engine = create_source_engine(settings.source, **options)

        def reflect() -> tuple[list, Table, bool]:  # type: ignore[type-arg]
            with engine.connect() as conn:
                zone = resolve_zone(conn, settings.source.time_zone)
                tables = reflect_tables(conn, wanted, zone=zone)
                # The change log as install named it in the triggers (and in NOTIFY channels).
                changelog = changelog_table(settings.source, home=dialect.changelog_home(conn))
                has_log = changelog_exists(conn, changelog)
            return tables, changelog, has_log

        try:
            tables, changelog, has_log = self._call("reading the tables", reflect, budget_s=30)
        except (OperationalError, DBAPIError) as exc:
            raise DependencyUnavailable(
                f"source database {settings.source.display_url()}: {exc.orig or exc!s}"
            ) from None
        topics = {t.name: settings.topic_of(t.settings) for t in tables}
        ensure_topics(settings.kafka, topics.values())
        self.producer = Producer(settings.kafka)
        triggered = [t for t in tables if t.settings.capture == "trigger"]
        if triggered and not has_log:
            raise ConfigError(
                [
                    f"source.changelog_table: {settings.source.changelog_table} does not exist; "
                    "run `cdc-sync source install` first"
                ]
            )
        if triggered:
            self.relay = TriggerRelay(
                engine,
                dialect,
                changelog,
                triggered,
                topics,
                self.producer,
                settings.relay.batch_size,
            )
        self.pollers = [
            TimestampPoller(
                engine,
                dialect,
                t,
                topics[t.name],
                self.producer,
                self.state,
                settings.relay.batch_size,
                settings.relay.overlap_s,
                related,
            )
            for t in tables
            if t.settings.capture == "timestamp"
            for related in (None, *t.related)
        ]
        self._start_sweeps(tables, topics)
        stamped = [t for t in tables if t.settings.capture == "timestamp"]
        if stamped:
            self.repairs = RepairDrain(
                engine,
                dialect,
                stamped,
                topics,
                self.producer,
                VerifyLog(self.state),
                settings.relay.batch_size,
            )

    def _start_sweeps(self, tables: list[CapturedTable], topics: dict[str, str]) -> None:
        swept = [t for t in tables if t.settings.delete_sweep_interval]
        if not swept:
            return
        assert self.engine is not None and self.producer is not None and self.dialect is not None
        client = meili_client(self.settings.meilisearch)
        self.sweeps = [
            DeleteSweep(
                self.engine,
                self.dialect,
                t,
                topics[t.name],
                self.producer,
                self.state,
                client,
                float(t.settings.delete_sweep_interval or 0),
            )
            for t in swept
        ]

    def sweep(self, force: bool = False) -> int:
        """Run the sweeps that are due (all with `force`); return the deletes published."""
        now = time.monotonic()
        deleted = 0
        for sweep in self.sweeps:
            if force or sweep.due(now):
                deleted += self._call("delete sweep", sweep.run, self._budget()).deleted
        self.published += deleted
        return deleted

    def step(self) -> Round:
        """One round over every table: what it found decides how soon the next one runs."""
        full = progressed = pending = False
        if self.relay is not None:
            result = self._call("change-log batch", self.relay.run_batch, self._budget())
            self.published += result.events
            full = result.full
            progressed = result.published > 0
            pending = result.locked > result.published  # keys wait for another relay
        for poller in self.pollers:
            events, more = self._call("timestamp poll", poller.poll, self._budget())
            self.published += events
            metrics.relay_published(poller.table.name, events)
            full = full or more
            progressed = progressed or events > 0
        if self.sweeps and not self.once:
            progressed = self.sweep() > 0 or progressed
        if self.repairs is not None:
            repaired = self._call("repairs", lambda: self._repair(self.once), self._budget())
            progressed = progressed or repaired > 0
        return Round(full, progressed, pending)

    def _repair(self, force: bool) -> int:
        assert self.repairs is not None
        published = self.repairs.run(force)
        self.published += published
        return published

    def _budget(self) -> float | None:
        return 300.0 if self.once else None

    def run(self) -> int:
        """Run until stopped (or, with `once`, until there is nothing left); return events.
        A stop asked for while a fault is retried ends the retries: what was not published
        stays where it was read from, for the next run."""
        try:
            self.start()
            self._relay()
        except Stopped:
            log.info("relay: stopped while retrying; nothing unpublished was acknowledged")
        finally:
            self.close()
        return self.published

    def _relay(self) -> None:
        pacer = Pacer(self.settings.relay.poll_interval_ms / 1000)
        waiter = self._waiter()
        try:
            while not self.stopping.is_set():
                done = self.step()
                if self.once and not done.active:
                    self.sweep(force=True)  # a drain ends with one sweep of each table
                    break
                delay = pacer.after(done)
                if delay:
                    waiter.wait(delay)
        finally:
            waiter.close()

    def _waiter(self) -> Waiter:
        """LISTEN where the triggers notify (PostgreSQL); sleep elsewhere and with `once`."""
        channel = self.relay.dialect.notify_channel(self.relay.changelog) if self.relay else None
        if channel is None or self.once or self.engine is None:
            return Sleeper(self.stopping)
        return ChannelListener(self.engine, channel, self.stopping)

    def close(self) -> None:
        if self.producer is not None:
            self.producer.close()
        if self.engine is not None:
            self.engine.dispose()
