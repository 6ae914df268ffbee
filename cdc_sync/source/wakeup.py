"""When the relay reads again: at once after a full batch, soon after a change, rarely when idle.

`Pacer` decides how long to wait after a round (pure, no clock). A waiter
does the waiting: `Sleeper` just sleeps; `ChannelListener` LISTENs on the
PostgreSQL channel the capture triggers notify at commit, so a change wakes
the relay as soon as it is committed. The pacer's waits still bound every
wait, so a missed or absent notification (triggers of an earlier version,
timestamp-mode tables, a lost listener connection) costs latency, never a
change.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

SLICE_S = 0.25
"""Longest single wait for a notification, so a stop request is seen quickly."""
RELISTEN_S = 1.0
"""After the listener connection failed: poll within this, then listen again."""


@dataclass(frozen=True, slots=True)
class Round:
    """What one pass over the change log and the timestamp tables found."""

    full: bool = False
    """A full batch or page: more is probably waiting."""
    progressed: bool = False
    """Something was published."""
    pending: bool = False
    """Rows wait for another relay's earlier rows of the same keys."""

    @property
    def active(self) -> bool:
        return self.full or self.progressed or self.pending


class Pacer:
    """No wait after a full round; after any progress, a short wait that doubles while idle.

    The waits go ``start``, ``2 * start``, … up to ``longest`` (the relay's
    ``poll_interval_ms``), so a quiet relay polls at that interval and one
    that just saw a change looks again soon.
    """

    def __init__(self, longest_s: float, start_s: float | None = None) -> None:
        self.longest_s = longest_s
        self.start_s = min(longest_s, start_s if start_s is not None else longest_s / 10)
        self._next_s = longest_s

    def after(self, done: Round) -> float:
        if done.full:
            self._next_s = self.start_s
            return 0.0
        if done.progressed:
            self._next_s = self.start_s
        wait = self._next_s
        self._next_s = min(self._next_s * 2, self.longest_s)
        return wait


class Waiter(Protocol):
    def wait(self, seconds: float) -> bool:
        """Block up to `seconds` (less if stopping); True when woken by a notification."""
        ...

    def close(self) -> None: ...


class Sleeper:
    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping

    def wait(self, seconds: float) -> bool:
        self.stopping.wait(seconds)
        return False

    def close(self) -> None:
        pass


class ChannelListener:
    """LISTEN on a PostgreSQL notification channel through a connection of its own.

    A failure of that connection is logged and the wait ends within
    `RELISTEN_S` (so the relay polls); the next wait connects again.
    """

    def __init__(self, engine: Engine, channel: str, stopping: threading.Event) -> None:
        self.engine = engine
        self.channel = channel
        self.stopping = stopping
        self._conn: Connection | None = None

    def _listening(self) -> Any:
        if self._conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                quoted = self.engine.dialect.identifier_preparer.quote_identifier(self.channel)
                conn.exec_driver_sql(f"LISTEN {quoted}")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn.connection.driver_connection

    def wait(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        try:
            driver = self._listening()
            while not self.stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                for _ in driver.notifies(timeout=min(remaining, SLICE_S), stop_after=1):
                    return True
            return False
        except (DBAPIError, psycopg.Error, OSError) as exc:
            # Poll soon (a notification may have been lost with the connection);
            # the next wait listens again.
            log.warning("relay: listening on %s failed (%s); polling", self.channel, exc)
            self._drop()
            self.stopping.wait(min(RELISTEN_S, max(0.0, deadline - time.monotonic())))
            return False

    def _drop(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # the connection is gone already
                log.debug("relay: closing the listener connection failed", exc_info=True)

    def close(self) -> None:
        self._drop()
