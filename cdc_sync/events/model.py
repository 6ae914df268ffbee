"""The change event every decoder produces and every writer consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Op = Literal["c", "u", "d", "r", "t"]
"""create, update, delete, read (snapshot), truncate."""

UNAVAILABLE = "__debezium_unavailable_value"
"""Debezium's placeholder for a column it did not capture (an unchanged LOB)."""


@dataclass(slots=True)  # not frozen: a frozen instance is three times dearer to build, per record
class ChangeEvent:
    op: Op
    key: dict[str, Any]
    """Primary-key values by column name."""
    after: dict[str, Any] | None = None
    """The row image after the change; None for deletes and truncates."""
    before: dict[str, Any] | None = None
    table: str | None = None
    change_id: int | None = None
    ts_ms: int | None = None
    source: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    """The envelope's ``source`` block as decoded: where the event stands in the
    source's order (``events/position.py``), read only when a truncate needs it."""

    @property
    def is_delete(self) -> bool:
        return self.op == "d"
