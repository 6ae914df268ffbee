"""Dead letters as the operator sees them: where each came from and why (pure logic)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cdc_sync.kafka.reader import Record

WATERMARK_PREFIX = "dlq-replayed:"
"""State-store watermark: per dead-letter partition, the next offset not yet replayed."""


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    record: Record
    code: str
    reason: str
    topic: str | None
    partition: int | None
    offset: int | None
    timestamp_ms: int | None

    @classmethod
    def of(cls, record: Record) -> DeadLetterView:
        h = record.headers
        return cls(
            record,
            h.get("cdc.error.code", "?"),
            h.get("cdc.error.reason", ""),
            h.get("cdc.original.topic") or None,
            _int(h.get("cdc.original.partition")),
            _int(h.get("cdc.original.offset")),
            _int(h.get("cdc.original.timestamp")),
        )

    @property
    def replayable(self) -> bool:
        return self.topic is not None

    @property
    def key_text(self) -> str:
        key = self.record.key
        return "" if key is None else key.decode("utf-8", "replace")

    def as_json(self) -> dict[str, Any]:
        return {
            "partition": self.record.partition,
            "offset": self.record.offset,
            "dead_lettered_at": _iso(self.record.timestamp_ms),
            "code": self.code,
            "reason": self.reason,
            "original": {
                "topic": self.topic,
                "partition": self.partition,
                "offset": self.offset,
                "timestamp": _iso(self.timestamp_ms),
            },
            "key": self.key_text,
            "value_bytes": None if self.record.value is None else len(self.record.value),
        }

    def line(self) -> str:
        origin = f"{self.topic}[{self.partition}]@{self.offset}" if self.topic else "unknown origin"
        return (
            f"[{self.record.partition}]@{self.record.offset}  {origin}  {self.code}: "
            f"{self.reason}  key={self.key_text or '-'}"
        )


def replay_start(stored: Any, since_offset: int | None, partitions: list[int]) -> dict[int, int]:
    """Where replay starts per partition: --since-offset, else after the last replay, else 0."""
    if since_offset is not None:
        return dict.fromkeys(partitions, since_offset)
    done = stored if isinstance(stored, dict) else {}
    return {p: int(done.get(str(p), 0)) for p in partitions}


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds")
