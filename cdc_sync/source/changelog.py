"""The change-log table the triggers write and the relay drains, and pure helpers on its rows.

One row per captured change: a monotonic ``id``, the configured table name,
the operation (``I``/``U``/``D``), the primary-key values as JSON text (a list
in primary-key order, so composite keys and any key type fit one column), the
change time and, where the database offers one, the transaction id.

A row may also be *packed*: ``pk`` is then a JSON list of such keys
(``[[1], [2], …]``, each spelled exactly as a one-key row spells it), all with
the row's op, id and time — PostgreSQL's statement-level triggers write a
multi-row statement that way. A key's values are JSON scalars, so a list whose
first element is a list is a packed row; tables whose key columns could hold a
list (arrays, JSON) never pack, and readers are told which tables may
(`expand`'s `packable`).

A row with op ``D`` and the empty key ``[]`` is a *whole-table marker*: the
table was truncated (a key has at least one value, so no key spells that way).
The relay publishes it as a truncate event.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import orjson
from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text

from cdc_sync.config import SourceSettings

MARKER = "cdc-sync"
"""Tag in the comments of the objects we create; `uninstall` removes only tagged objects."""

COLUMNS = ("id", "table_name", "op", "pk", "changed_at", "txid")

WHOLE_TABLE = "[]"
"""The ``pk`` of a whole-table marker (op ``D``): the table was truncated."""

Op = Literal["I", "U", "D"]


def fold(name: str) -> str:
    """SQLAlchemy's spelling of a configured identifier.

    A single-case name (``CDC_CHANGE_LOG``, ``items``) means "case-insensitive":
    SQLAlchemy wants it lower-case and renders it unquoted, so each database
    folds it its own way (Oracle upper, PostgreSQL lower). Mixed case stays
    exactly as written and is quoted.
    """
    return name.lower() if name in (name.upper(), name.lower()) else name


TABLE_NAME_BYTES = 261
"""The change log's ``table_name`` width: ``SCHEMA.TABLE`` of two 128-byte identifiers fits,
a lookup's longer name (``<TABLE>..<LOOKUP>.<PARENT_COLUMNS>``) may not (install checks)."""


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
        Column("table_name", String(TABLE_NAME_BYTES), nullable=False),
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

    @property
    def whole_table(self) -> bool:
        """A truncate marker rather than a key's change."""
        return self.pk == WHOLE_TABLE


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


_SIMPLE_KEY = re.compile(r"\[[^\[\]]*\]")
"""A key without strings, lists or objects in it (what most packed rows hold)."""
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
"""A JSON string (skipped whole) or a bracket: enough to find where each key ends."""


def packed_keys(pk: str) -> list[str]:
    """The keys of a packed row's ``pk``, each as its own text (not re-spelled)."""
    inner = pk[1:-1]
    if '"' not in inner and "{" not in inner:
        return _SIMPLE_KEY.findall(inner)
    keys, depth, start = [], 0, 0
    for token in _TOKEN.finditer(inner):
        bracket = token.group()
        if bracket in ("[", "{"):
            if depth == 0:
                start = token.start()
            depth += 1
        elif bracket in ("]", "}"):
            depth -= 1
            if depth == 0:
                keys.append(inner[start : token.end()])
    return keys


def expand(
    rows: Iterable[Change], packable: Container[str], limit: int
) -> tuple[list[Change], int]:
    """One change per key of the rows, in order, taking whole rows while at most `limit`
    changes result (the first row always): (the changes, how many rows they came from).

    Keys of one packed row share its id, which is their position in the source's order
    too: a statement names each key once, so per-key order is unaffected.
    """
    changes: list[Change] = []
    taken = 0
    for row in rows:
        if row.table_name in packable and row.pk.startswith("[["):
            keys = packed_keys(row.pk)
            if changes and len(changes) + len(keys) > limit:
                break
            changes += [Change(row.id, row.table_name, row.op, k, row.changed_at) for k in keys]
        else:
            if len(changes) >= limit:
                break
            changes.append(row)
        taken += 1
    return changes, taken


def ready_rows(batch: Sequence[Change], blocked: Container[tuple[str, str]]) -> list[Change]:
    """The batch's changes whose row has no blocked key: a row is published whole or waits."""
    waiting = {c.id for c in batch if c.identity in blocked}
    return [c for c in batch if c.id not in waiting]


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
