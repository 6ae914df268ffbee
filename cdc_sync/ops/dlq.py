"""Dead letters as the operator sees them: where each came from and why, and which of them a
replay re-sends (pure logic)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cdc_sync.config import TableSettings
from cdc_sync.documents.compact import WINS, Kind, kind_of
from cdc_sync.documents.mapping import operation_for_event
from cdc_sync.errors import CdcSyncError
from cdc_sync.events.decode import AvroDecoder, decode_record
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


Mark = tuple[str, bytes | None]
"""A dead letter's original topic and key."""


def letter_kind(
    view: DeadLetterView, tables: dict[str, TableSettings], avro: AvroDecoder | None = None
) -> Kind | None:
    """What the dead letter does to its document, read as the consumer would read it now;
    None when it cannot be read (yet), is a truncate, or its topic is not a configured table."""
    table = tables.get(view.topic or "")
    if table is None:
        return None
    try:
        event = decode_record(view.record.key, view.record.value, avro=avro)
        return None if event.op == "t" else kind_of(operation_for_event(table, event))
    except CdcSyncError:
        return None  # re-sent as it is: the consumer decides again


def winners(letters: Iterable[tuple[DeadLetterView, Kind | None]]) -> dict[Mark, int]:
    """Per original topic and key, the original offset of its last dead letter that is a full
    image or a delete: it wins over every earlier one of the key (`documents.compact`)."""
    last: dict[Mark, int] = {}
    for view, kind in letters:
        if view.topic is not None and view.offset is not None and kind in WINS:
            mark = (view.topic, view.record.key)
            last[mark] = max(view.offset, last.get(mark, -1))
    return last


def superseded(view: DeadLetterView, won: dict[Mark, int]) -> bool:
    """Whether a later dead letter of the same key wins over this one: it need not be re-sent."""
    if view.topic is None or view.offset is None:
        return False
    at = won.get((view.topic, view.record.key))
    return at is not None and view.offset < at


@dataclass
class Resend:
    """Each original record once: a record dead-lettered twice (its consumer restarted
    before committing) is re-sent once."""

    seen: set[tuple[str | None, int | None, int | None]] = field(default_factory=set)

    def first(self, view: DeadLetterView) -> bool:
        origin = (view.topic, view.partition, view.offset)
        if view.offset is not None and origin in self.seen:
            return False
        self.seen.add(origin)
        return True


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
