"""Progress of a long load: done/total, rate and ETA; a bar on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("cdc_sync.bootstrap")


@dataclass
class Meter:
    """Rows done against a total; the clock is injected so the maths is testable."""

    total: int
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    started: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def advance(self, rows: int) -> None:
        self.done += rows

    @property
    def elapsed(self) -> float:
        return max(self.clock() - self.started, 0.0)

    @property
    def rate(self) -> float:
        """Rows per second so far (0 before any time has passed)."""
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the current rate; None while unknown. The total may be exceeded
        when rows are inserted during the load; the ETA then is 0."""
        if self.done >= self.total:
            return 0.0
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 else None


class Reporter(Protocol):
    def update(self, meter: Meter) -> None: ...

    def close(self, meter: Meter) -> None: ...


class LogReporter:
    """A structured log line every `every_s` seconds (non-terminal output)."""

    def __init__(self, label: str, every_s: float = 5.0) -> None:
        self.label = label
        self.every_s = every_s
        self.last = 0.0

    def _emit(self, meter: Meter, message: str) -> None:
        fields = {
            "table": self.label,
            "done": meter.done,
            "total": meter.total,
            "rate": round(meter.rate, 1),
            "eta_s": None if meter.eta_s is None else round(meter.eta_s, 1),
        }
        log.info(
            "%s %s: %d/%d rows, %.0f rows/s, eta %s",
            message,
            self.label,
            meter.done,
            meter.total,
            meter.rate,
            "?" if meter.eta_s is None else f"{meter.eta_s:.0f}s",
            extra={"fields": fields},
        )

    def update(self, meter: Meter) -> None:
        now = meter.clock()
        if now - self.last >= self.every_s:
            self.last = now
            self._emit(meter, "loading")

    def close(self, meter: Meter) -> None:
        self._emit(meter, "loaded")


class BarReporter:
    """A rich progress bar (terminal output)."""

    def __init__(self, label: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]} rows/s"),
            TimeRemainingColumn(),
            transient=False,
        )
        self.task = self.progress.add_task(label, total=None, rate="0")
        self.progress.start()

    def update(self, meter: Meter) -> None:
        self.progress.update(
            self.task,
            completed=meter.done,
            total=max(meter.total, meter.done),
            rate=f"{meter.rate:,.0f}",
        )

    def close(self, meter: Meter) -> None:
        self.update(meter)
        self.progress.stop()


def reporter_for(label: str, terminal: bool | None = None) -> Reporter:
    if terminal is None:
        terminal = sys.stderr.isatty()
    return BarReporter(label) if terminal else LogReporter(label)
