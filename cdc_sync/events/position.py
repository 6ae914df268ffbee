"""Where an event stands in its source's own order (what a truncate is ordered by).

Every source writes its changes in one order, and each event names its place
in it (see docs/truncates.md):

- our relay: ``source.change_id`` (the change log's id, shared by the keys of a packed row);
- Debezium PostgreSQL: ``source.sequence`` = ``["<last commit LSN>", "<LSN>"]``:
  the commit LSN of the transaction streamed before this one, then the change's
  own LSN. pgoutput streams whole transactions in commit order, so the pair
  grows with the stream (the LSN alone does not: a transaction that started
  earlier may commit later);
- Debezium Oracle: ``(source.commit_scn, source.scn)``: LogMiner's events are
  emitted per transaction in commit order (a snapshot's rows carry only ``scn``).

Positions of different kinds (or sources) are not comparable; ``None`` means the
event does not say.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdc_sync.events.model import ChangeEvent

_WIDTH = 20  # digits of 2**64: zero-padded text sorts like the numbers


@dataclass(frozen=True, slots=True, order=True)
class Position:
    kind: str
    values: tuple[int, ...]

    def text(self) -> str:
        """A form whose string order is the position order (for the state store)."""
        return self.kind + ":" + ".".join(str(v).zfill(_WIDTH) for v in self.values)

    @classmethod
    def parse(cls, text: str) -> Position:
        kind, _, values = text.partition(":")
        return cls(kind, tuple(int(v) for v in values.split(".")))

    def comparable(self, other: Position) -> bool:
        return self.kind == other.kind and len(self.values) == len(other.values)

    def __str__(self) -> str:
        return f"{self.kind} {'/'.join(map(str, self.values))}"


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _postgresql(source: dict[str, Any]) -> Position | None:
    sequence = source.get("sequence")
    if isinstance(sequence, str):
        try:
            sequence = json.loads(sequence)
        except ValueError:
            sequence = None
    if not isinstance(sequence, list) or len(sequence) != 2:
        return None
    last_commit = _number(sequence[0]) if sequence[0] is not None else 0
    lsn = _number(sequence[1]) if sequence[1] is not None else _number(source.get("lsn"))
    if last_commit is None or lsn is None:
        return None
    return Position("postgresql", (last_commit, lsn))


def _oracle(source: dict[str, Any]) -> Position | None:
    scn = _number(source.get("scn"))
    if scn is None:
        return None
    commit = source.get("commit_scn")
    commit_scn = scn if commit is None else _number(commit)
    return None if commit_scn is None else Position("oracle", (commit_scn, scn))


def _relay(source: dict[str, Any]) -> Position | None:
    change_id = _number(source.get("change_id"))
    return None if change_id is None else Position("cdc-sync", (change_id,))


_BY_CONNECTOR = {"postgresql": _postgresql, "oracle": _oracle, "cdc-sync": _relay}


def position_of(event: ChangeEvent) -> Position | None:
    """The event's place in its source's order, or None when it does not say."""
    source = event.source
    if not source:
        return None
    reader = _BY_CONNECTOR.get(str(source.get("connector")))
    return None if reader is None else reader(source)
