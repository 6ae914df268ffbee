"""The change-log table the triggers write and the relay drains, and pure helpers on its rows.

One row per captured change: a monotonic ``id``, the configured table name,
the operation (``I``/``U``/``D``), the primary-key values as JSON text (a list
in primary-key order, so composite keys and any key type fit one column), the
change time and, where the database offers one, the transaction id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import orjson
from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text

from cdc_sync.config import SourceSettings

MARKER = "cdc-sync"
"""Tag in the comments of the objects we create; `uninstall` removes only tagged objects."""

COLUMNS = ("id", "table_name", "op", "pk", "changed_at", "txid")

Op = Literal["I", "U", "D"]


def fold(name: str) -> str:
    """SQLAlchemy's spelling of a configured identifier.

    A single-case name (``CDC_CHANGE_LOG``, ``items``) means "case-insensitive":
    SQLAlchemy wants it lower-case and renders it unquoted, so each database
    folds it its own way (Oracle upper, PostgreSQL lower). Mixed case stays
    exactly as written and is quoted.
    """
    return name.lower() if name in (name.upper(), name.lower()) else name


def changelog_table(
    source: SourceSettings, metadata: MetaData | None = None, home: str | None = None
) -> Table:
    """The change log as a SQLAlchemy table, for reads and deletes (DDL is per dialect).

    `home`: its schema when `changelog_schema` is not configured (see `Dialect.changelog_home`).
    """
    schema = fold(source.changelog_schema) if source.changelog_schema else home
    return Table(
        fold(source.changelog_table),
        metadata or MetaData(),
        Column("id", BigInteger, primary_key=True),
        Column("table_name", String(261), nullable=False),
        Column("op", String(1), nullable=False),
        Column("pk", Text, nullable=False),
        # Read as the driver returns it (datetime or SQLite text); see `epoch_ms`.
        Column("changed_at", Text),
        Column("txid", String(64)),
        schema=schema,
    )


@dataclass(slots=True)
class Change:
    """One change-log row (not frozen: built once per row, a frozen one costs three times more)."""

    id: int
    table_name: str
    op: Op
    pk: str
    changed_at: Any = None

    @property
    def identity(self) -> tuple[str, str]:
        return (self.table_name, self.pk)


_EXACT = json.JSONDecoder(parse_float=Decimal)


def parse_pk(pk: str) -> list[Any]:
    """The key values from the JSON text the trigger wrote; numbers stay exact.

    orjson first (most keys are integers and text); it reads fractions and
    integers past 64 bits as binary floats, so those are read again exactly.
    """
    try:
        values = orjson.loads(pk)
    except orjson.JSONDecodeError:
        values = None
    if not isinstance(values, list) or any(type(v) is float for v in values):
        values = _EXACT.decode(pk)
    if not isinstance(values, list):
        raise ValueError(f"change-log primary key {pk!r} is not a JSON list")
    return values


def epoch_ms(value: Any) -> int | None:
    """The change time as epoch milliseconds (naive times are UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)


def blocked_identities(batch: Sequence[Change], older: Iterable[Change]) -> set[tuple[str, str]]:
    """Keys of the batch that have an earlier change-log row outside the batch.

    That row is locked by another relay (or committed late); publishing our
    later change first could put an older image after a newer one in Kafka, so
    those keys wait for the next round. This keeps per-key order with several
    relays at once.
    """
    ours = {c.id for c in batch}
    first: dict[tuple[str, str], int] = {}
    for change in batch:
        first.setdefault(change.identity, change.id)
    return {
        c.identity
        for c in older
        if c.id not in ours and c.identity in first and c.id < first[c.identity]
    }


def last_per_key(batch: Iterable[Change]) -> dict[tuple[str, str], Change]:
    """The last change per (table, key), ordered by that last change's id."""
    latest: dict[tuple[str, str], Change] = {}
    for change in sorted(batch, key=lambda c: c.id):
        latest.pop(change.identity, None)
        latest[change.identity] = change
    return latest


def chunks(items: Sequence[Any], size: int = 1000) -> Iterator[Sequence[Any]]:
    """Slices of at most `size` (Oracle allows at most 1000 expressions in an IN list)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
