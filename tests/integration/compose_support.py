"""Composed documents in tests: cases with notes (children) and a status code (lookup).

`Mixer` makes random, seeded changes to all three tables; `from_tables`
composes the expected documents directly from the tables with plain SQL and
Python, independently of the code under test.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import meilisearch
from sqlalchemy import Engine, create_engine, text

from cdc_sync.database_url import normalise_url
from tests.integration.cli_support import start_cli, stop

DDL = [
    "CREATE TABLE cases (id INTEGER PRIMARY KEY, title VARCHAR(80), status VARCHAR(10), "
    "modified_at TIMESTAMP)",
    "CREATE TABLE notes (note_id INTEGER PRIMARY KEY, case_id INTEGER, seq INTEGER, "
    "body VARCHAR(80), del_yn CHAR(1) DEFAULT 'N', modified_at TIMESTAMP)",
    "CREATE TABLE status_code (code VARCHAR(10) PRIMARY KEY, code_name VARCHAR(40), "
    "modified_at TIMESTAMP)",
]
TABLES = ("notes", "status_code", "cases", "cdc_change_log")

NOTES: dict[str, Any] = {
    "name": "NOTES",
    "primary_key": ["NOTE_ID"],
    "parent_key": ["CASE_ID"],
    "field": "notes",
    "fields": {"BODY": "text", "SEQ": "seq"},
    "order_by": ["SEQ"],
    "filter": "DEL_YN = 'N'",
}
STATUS: dict[str, Any] = {
    "name": "STATUS_CODE",
    "key": ["CODE"],
    "parent_columns": ["STATUS"],
    "fields": {"CODE_NAME": "status_name"},
}


def cases_table(index: str, **extra: Any) -> dict[str, Any]:
    children = {**NOTES, **extra.pop("notes", {})}
    lookups = {**STATUS, **extra.pop("status", {})}
    return {
        "name": "CASES",
        "primary_key": ["ID"],
        "index": index,
        "fields": {"TITLE": "title", "STATUS": "status"},
        "children": [children],
        "lookups": [lookups],
        **extra,
    }


def engine_for(url: str) -> Engine:
    return create_engine(normalise_url(url))


def create_schema(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in TABLES:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        for statement in DDL:
            conn.execute(text(statement))


def from_tables(engine: Engine) -> dict[str, dict[str, Any]]:
    """The documents, composed directly from the tables (the reference)."""
    with engine.connect() as conn:
        cases = conn.execute(text("SELECT id, title, status FROM cases")).all()
        notes = conn.execute(
            text("SELECT note_id, case_id, seq, body FROM notes WHERE del_yn = 'N'")
        ).all()
        codes = dict(conn.execute(text("SELECT code, code_name FROM status_code")).all())
    by_case: dict[int, list[Any]] = {}
    for note in sorted(notes, key=lambda n: (n.seq, n.note_id)):
        by_case.setdefault(note.case_id, []).append(
            {"note_id": note.note_id, "text": note.body, "seq": note.seq}
        )
    return {
        str(c.id): {
            "id": str(c.id),
            "title": c.title,
            "status": c.status,
            "status_name": codes.get(c.status),
            "notes": by_case.get(c.id, []),
        }
        for c in cases
    }


def index_docs(meili: meilisearch.Client, uid: str) -> dict[str, dict[str, Any]]:
    try:
        page = meili.http.post(f"indexes/{uid}/documents/fetch", {"limit": 100_000})
    except meilisearch.errors.MeilisearchApiError:
        return {}
    return {d["id"]: d for d in page["results"]}


def wait_equal(
    meili: meilisearch.Client, uid: str, engine: Engine, timeout_s: float = 60
) -> dict[str, dict[str, Any]]:
    """Wait until the index holds exactly the documents composed from the tables."""
    deadline = time.monotonic() + timeout_s
    while True:
        expected, actual = from_tables(engine), index_docs(meili, uid)
        if expected == actual:
            return expected
        if time.monotonic() > deadline:
            wrong = sorted(
                k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k)
            )
            sample = wrong[0]
            raise AssertionError(
                f"{len(wrong)} documents differ, e.g. {sample}: "
                f"expected {expected.get(sample)}, index has {actual.get(sample)}"
            )
        time.sleep(0.3)


class Mixer:
    """Seeded random changes to cases, notes and status codes, one transaction each."""

    CODES = ("OPEN", "CLOSED", "HOLD", "NEW", "GONE")

    def __init__(self, engine: Engine, seed: int, stamp: bool = False) -> None:
        self.engine = engine
        self.random = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.stamp = stamp
        """Set modified_at on every write (timestamp capture)."""
        self.next_case = 1
        self.next_note = 1

    def _now(self) -> str:
        return ", modified_at = CURRENT_TIMESTAMP" if self.stamp else ""

    def seed_rows(self, cases: int, notes: int) -> None:
        with self.engine.begin() as conn:
            for code in self.CODES[:4]:
                conn.execute(
                    text("INSERT INTO status_code VALUES (:c, :n, CURRENT_TIMESTAMP)"),
                    {"c": code, "n": f"{code.title()} case"},
                )
        for _ in range(cases):
            self.apply("insert_case")
        for _ in range(notes):
            self.apply("insert_note")
        self.counts.clear()

    def ids(self, conn: Any, query: str) -> list[Any]:
        return [r[0] for r in conn.execute(text(query))]

    WEIGHTS: ClassVar[dict[str, int]] = {
        "insert_case": 8, "update_case": 10, "rekey_case": 3, "delete_case": 3,
        "insert_note": 14, "update_note": 10, "move_note": 8, "hide_note": 4, "delete_note": 6,
        "insert_code": 2, "update_code": 4, "delete_code": 2,
    }  # fmt: skip

    def step(self, weights: dict[str, int] | None = None) -> str:
        chosen = weights or self.WEIGHTS
        kind = self.random.choices(list(chosen), weights=list(chosen.values()))[0]
        self.apply(kind)
        return kind

    def apply(self, kind: str) -> None:
        pick = self.random.choice
        now = self._now()
        with self.engine.begin() as conn:
            cases = self.ids(conn, "SELECT id FROM cases ORDER BY id")
            if kind == "insert_case" or (not cases and "case" in kind):
                kind = "insert_case"
                conn.execute(
                    text("INSERT INTO cases VALUES (:i, :t, :s, CURRENT_TIMESTAMP)"),
                    {"i": self.next_case, "t": f"case {self.next_case}", "s": pick(self.CODES)},
                )
                self.next_case += 1
            elif kind == "update_case":
                conn.execute(
                    text(f"UPDATE cases SET title = :t, status = :s{now} WHERE id = :i"),
                    {
                        "i": pick(cases),
                        "t": f"title {self.random.randint(1, 999)}",
                        "s": pick(self.CODES),
                    },
                )
            elif kind == "rekey_case":
                conn.execute(
                    text(f"UPDATE cases SET id = :n{now} WHERE id = :i"),
                    {"i": pick(cases), "n": self.next_case},
                )
                self.next_case += 1
            elif kind == "delete_case":
                conn.execute(text("DELETE FROM cases WHERE id = :i"), {"i": pick(cases)})
            elif kind in ("insert_note", "update_note", "move_note", "hide_note", "delete_note"):
                notes = self.ids(conn, "SELECT note_id FROM notes ORDER BY note_id")
                parent = pick(cases) if cases and self.random.random() < 0.9 else self.next_case + 5
                if kind == "insert_note" or not notes:
                    kind = "insert_note"
                    conn.execute(
                        text("INSERT INTO notes VALUES (:n, :c, :s, :b, 'N', CURRENT_TIMESTAMP)"),
                        {
                            "n": self.next_note,
                            "c": parent,
                            "s": self.random.randint(1, 5),
                            "b": f"note {self.next_note}",
                        },
                    )
                    self.next_note += 1
                elif kind == "update_note":
                    conn.execute(
                        text(f"UPDATE notes SET body = :b, seq = :s{now} WHERE note_id = :n"),
                        {
                            "n": pick(notes),
                            "b": f"body {self.random.randint(1, 999)}",
                            "s": self.random.randint(1, 5),
                        },
                    )
                elif kind == "move_note":
                    conn.execute(
                        text(f"UPDATE notes SET case_id = :c{now} WHERE note_id = :n"),
                        {"n": pick(notes), "c": parent},
                    )
                elif kind == "hide_note":
                    conn.execute(
                        text(f"UPDATE notes SET del_yn = :d{now} WHERE note_id = :n"),
                        {"n": pick(notes), "d": pick("NY")},
                    )
                else:
                    conn.execute(text("DELETE FROM notes WHERE note_id = :n"), {"n": pick(notes)})
            else:
                codes = set(self.ids(conn, "SELECT code FROM status_code"))
                missing = [c for c in self.CODES if c not in codes]
                if kind == "insert_code" and missing:
                    conn.execute(
                        text("INSERT INTO status_code VALUES (:c, :n, CURRENT_TIMESTAMP)"),
                        {"c": pick(missing), "n": "added"},
                    )
                elif kind == "update_code" and codes:
                    conn.execute(
                        text(f"UPDATE status_code SET code_name = :n{now} WHERE code = :c"),
                        {"c": pick(sorted(codes)), "n": f"name {self.random.randint(1, 999)}"},
                    )
                elif kind == "delete_code" and codes:
                    conn.execute(
                        text("DELETE FROM status_code WHERE code = :c"), {"c": pick(sorted(codes))}
                    )
                else:
                    kind = "nothing"
        self.counts[kind] += 1


@contextmanager
def services(config: Path, *commands: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The relay and consumer as the real long-running services; SIGTERM afterwards."""
    started = [start_cli(config, c) for c in commands or ("relay", "consume")]
    try:
        yield started
    finally:
        stop(started)
