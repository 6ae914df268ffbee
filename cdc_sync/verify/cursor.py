"""A table's continuous-verification cursor: the pass under way and the last one done.

Saved in the state store after every chunk, so a restarted (or killed) verifier, or the
one that takes the table over, resumes the pass where it stopped; `status` reads it too.
Key positions keep their types through JSON (dates, times, decimals).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from cdc_sync.source.timestamp import dump_value, load_value
from cdc_sync.verify.drift import KINDS

Phase = Literal["rows", "extras"]


def _counts() -> dict[str, int]:
    return dict.fromkeys(KINDS, 0)


@dataclass
class PassState:
    run_id: int | None
    started_at: float
    """Unix time the pass started."""
    total: int = 0
    """Source rows and index documents counted at the start: what 100 % means."""
    phase: Phase = "rows"
    """`rows`: the source's key range, in chunks; `extras`: the index's ids, in pages."""
    position: list[Any] | None = None
    """The last key checked (rows phase)."""
    offset: int = 0
    """Index documents paged through (extras phase)."""
    rows_read: int = 0
    ids_read: int = 0
    found: dict[str, int] = field(default_factory=_counts)
    repaired: dict[str, int] = field(default_factory=_counts)
    waiting: str | None = None
    """Why the pass waits, while it does (the consumers' lag, the table's lease)."""

    @property
    def progress(self) -> float:
        if self.total <= 0:
            return 0.0
        return min(1.0, (self.rows_read + self.ids_read) / self.total)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["position"] = None if self.position is None else [dump_value(v) for v in self.position]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PassState:
        values = dict(data)
        if values.get("position") is not None:
            values["position"] = [load_value(v) for v in values["position"]]
        return cls(**values)


@dataclass
class Cursor:
    current: PassState | None = None
    last: dict[str, Any] | None = None
    """The last complete pass: run_id, started_at, ended_at, rows_read, ids_read, found,
    repaired (Unix times)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "current": self.current.as_json() if self.current else None,
            "last": self.last,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Cursor:
        if not data:
            return cls()
        current = data.get("current")
        return cls(PassState.from_json(current) if current else None, data.get("last"))

    def finish(self, ended_at: float) -> dict[str, Any]:
        """End the pass under way; its summary becomes `last`."""
        state = self.current
        assert state is not None
        self.last = {
            "run_id": state.run_id,
            "started_at": state.started_at,
            "ended_at": ended_at,
            "rows_read": state.rows_read,
            "ids_read": state.ids_read,
            "found": dict(state.found),
            "repaired": dict(state.repaired),
        }
        self.current = None
        return self.last


def next_pass_at(cursor: Cursor, every_s: float, now: float) -> float:
    """A pass starts `every_s` after the last one started (at once when there was none)."""
    if cursor.last is None:
        return now
    return float(cursor.last["started_at"]) + every_s
