"""Numbers as people read them, shared by `cdc-sync status` and the dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any


def count(value: int | float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def duration(seconds: float | None) -> str:
    """``850 ms``, ``4.2 s``, ``3 min``, ``2.5 h``, ``3 d``."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"


def millis(value: float | None) -> str:
    return "-" if value is None else duration(value / 1000)


def ago(moment: str | None, now: dt.datetime | None = None) -> str:
    """An ISO time as ``12 s ago``."""
    if not moment:
        return "never"
    then = dt.datetime.fromisoformat(moment)
    seconds = ((now or dt.datetime.now(dt.UTC)) - then).total_seconds()
    return f"{duration(max(seconds, 0))} ago"


def notes(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def kinds(counts: dict[str, int]) -> str:
    """``1 missing, 2 differing`` (``none`` when all are 0)."""
    return ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "none"
