"""SQLite: the change log and one trigger per operation (SQLite has no multi-event triggers).

SQLite has no row locks: run a single relay per database file.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Select, Table

from cdc_sync.source.dialect import Dialect
from cdc_sync.source.schema import CapturedTable, RelatedTable


class SqliteDialect(Dialect):
    name: ClassVar[str] = "sqlite"
    row_locks: ClassVar[bool] = False
    qualified_changelog: ClassVar[bool] = False  # SQLite triggers take no schema-qualified names

    def database_zone_query(self) -> str | None:
        return None  # CURRENT_TIMESTAMP and datetime('now') are UTC

    def create_changelog(self, changelog: Table) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.table_ref(changelog)} (\n"
            "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
            "    table_name TEXT NOT NULL,\n"
            "    op TEXT NOT NULL CHECK (op IN ('I', 'U', 'D')),\n"
            "    pk TEXT NOT NULL,\n"
            "    changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),\n"
            "    txid TEXT\n"
            ")"
        ]

    def _pk(self, table: CapturedTable | RelatedTable, record: str) -> str:
        return f"json_array({', '.join(self.columns(table, record + '.'))})"

    def key_json(self, table: CapturedTable | RelatedTable, record: str) -> str:
        return self._pk(table, record)

    def _trigger(
        self, table: CapturedTable | RelatedTable, suffix: str, event: str, body: list[str]
    ) -> str:
        name = self.qualified(table, self.object_name(table, f"trg_{suffix}"))
        lines = "\n".join(f"    {line};" for line in body)
        return (
            f"CREATE TRIGGER {name} AFTER {event} ON {self.ident(table.table.name)}\n"
            f"FOR EACH ROW BEGIN\n    -- {self.comment(table)}\n{lines}\nEND"
        )

    def create_triggers(self, table: CapturedTable, changelog: Table) -> list[str]:
        cl = self.table_ref(changelog)
        name = self.literal(table.name)
        old, new = self._pk(table, "OLD"), self._pk(table, "NEW")
        changed = " OR ".join(
            f"{o} IS NOT {n}"
            for o, n in zip(self.columns(table, "OLD."), self.columns(table, "NEW."), strict=True)
        )
        update = [
            f"INSERT INTO {cl} (table_name, op, pk) SELECT {name}, 'D', {old} WHERE {changed}",
            f"INSERT INTO {cl} (table_name, op, pk) "
            f"SELECT {name}, CASE WHEN {changed} THEN 'I' ELSE 'U' END, {new}",
        ]
        return [
            *self.drop_triggers(table),
            self._trigger(table, "i", "INSERT", [self.insert_change(changelog, table, "I", new)]),
            self._trigger(table, "u", "UPDATE", update),
            self._trigger(table, "d", "DELETE", [self.insert_change(changelog, table, "D", old)]),
            *self.create_related_triggers(table, changelog),
        ]

    def drop_triggers(self, table: CapturedTable) -> list[str]:
        return [*self.drop_related_triggers(table), *self._drop(table)]

    def _drop(self, table: CapturedTable | RelatedTable) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS {self.qualified(table, self.object_name(table, f'trg_{s}'))}"
            for s in ("i", "u", "d")
        ]

    def create_link_triggers(self, related: RelatedTable, changelog: Table) -> list[str]:
        cl = self.table_ref(changelog)
        name = self.literal(related.name)
        old_link, new_link = self.columns(related, "OLD."), self.columns(related, "NEW.")
        old_set = " AND ".join(f"{c} IS NOT NULL" for c in old_link)
        new_set = " AND ".join(f"{c} IS NOT NULL" for c in new_link)
        moved = " OR ".join(f"{o} IS NOT {n}" for o, n in zip(old_link, new_link, strict=True))

        def log(record: str, condition: str) -> str:
            pk = self._pk(related, record)
            return (
                f"INSERT INTO {cl} (table_name, op, pk) SELECT {name}, 'U', {pk} WHERE {condition}"
            )

        return [
            self._trigger(related, "i", "INSERT", [log("NEW", new_set)]),
            self._trigger(
                related,
                "u",
                "UPDATE",
                [log("OLD", old_set), log("NEW", f"{new_set} AND ({moved})")],
            ),
            self._trigger(related, "d", "DELETE", [log("OLD", old_set)]),
        ]

    def drop_link_triggers(self, related: RelatedTable) -> list[str]:
        return self._drop(related)

    def lock_query(
        self, query: Select[Any], size: int, *, single_table: bool = False
    ) -> Select[Any]:
        # No row locks: the write lock taken by the delete serialises writers instead.
        return query.limit(size)
