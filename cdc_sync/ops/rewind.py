"""`replay --since`: which point in time, and which offsets to commit for it (pure logic)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from cdc_sync.kafka.types import Partition

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.I)
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


class BadTime(ValueError):
    pass


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """An aware datetime from ISO-8601 (naive: local time) or a duration ago (``2h``, ``1h30m``)."""
    value = text.strip()
    compact = value.replace(" ", "")
    if compact and _DURATION.sub("", compact) == "" and _DURATION.match(compact):
        seconds = sum(float(n) * _UNITS[u.lower()] for n, u in _DURATION.findall(compact))
        return now - dt.timedelta(seconds=seconds)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadTime(
            f"--since {text!r}: expected ISO-8601 (2024-05-01T12:00:00+02:00) "
            "or a duration ago (30m, 2h, 1d, 1h30m)"
        ) from None
    moment = moment if moment.tzinfo else moment.astimezone()  # naive: the machine's local time
    if moment > now:
        raise BadTime(f"--since {text!r} is in the future ({moment.isoformat()})")
    return moment


@dataclass(frozen=True, slots=True)
class Move:
    partition: Partition
    old: int | None
    """The group's committed offset (None: nothing committed)."""
    target: int
    """The first offset at or after the time (the end offset when there is none)."""

    @property
    def new(self) -> int | None:
        """Offsets only move back: moving forward would skip events never applied, and
        a partition with nothing committed is read from the beginning anyway."""
        if self.old is None:
            return None
        return min(self.old, self.target)

    @property
    def changes(self) -> bool:
        return self.new is not None and self.new != self.old

    def describe(self) -> str:
        if self.old is None:
            return f"{self.partition}: nothing committed (the consumer starts at the beginning)"
        if not self.changes:
            return f"{self.partition}: {self.old} (unchanged: already at or before {self.target})"
        return (
            f"{self.partition}: {self.old} → {self.new} ({self.old - (self.new or 0)} to re-apply)"
        )


def plan(committed: dict[Partition, int | None], targets: dict[Partition, int]) -> list[Move]:
    return [Move(p, committed.get(p), targets[p]) for p in sorted(targets)]
