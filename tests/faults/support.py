"""Helpers of the fault suite: restarting the stack's servers, source tables, CLI processes."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from typing import Any

import meilisearch
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cdc_sync.database_url import normalise_url
from tests.conftest import ROOT


def restart(component: str) -> None:
    """`dev/stack restart COMPONENT`: stop it, start it again (its data stays)."""
    done = subprocess.run(
        [str(ROOT / "dev" / "stack"), "restart", component],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"dev/stack restart {component}:\n{done.stderr[-2000:]}"


def make_table(url: str, name: str, rows: int, title: str = "row") -> None:
    """`name` (ID, TITLE, N) with rows 1..rows."""
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, title TEXT, n INTEGER)"))
        if rows:
            conn.execute(
                text(f"INSERT INTO {name} VALUES (:i, :t, 0)"),
                [{"i": i, "t": f"{title} {i}"} for i in range(1, rows + 1)],
            )
    engine.dispose()


def execute(url: str, statement: str) -> None:
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def source_docs(url: str, name: str) -> dict[str, dict[str, Any]]:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, title, n FROM {name}")).all()
    engine.dispose()
    return {str(r.id): {"id": str(r.id), "title": r.title, "n": r.n} for r in rows}


def index_docs(client: meilisearch.Client, uid: str) -> dict[str, dict[str, Any]]:
    """The index's documents by id; {} while it does not exist."""
    try:
        page = client.http.post(f"indexes/{uid}/documents/fetch", {"limit": 1_000_000})
    except meilisearch.errors.MeilisearchApiError as exc:
        if exc.code == "index_not_found":
            return {}
        raise
    return {str(d["id"]): d for d in page["results"]}


def document_count(client: meilisearch.Client, uid: str) -> int:
    try:
        return int(client.index(uid).get_stats().number_of_documents)
    except meilisearch.errors.MeilisearchApiError:
        return 0


def wait_index_equals_source(
    client: meilisearch.Client, uid: str, url: str, name: str, timeout_s: float = 90
) -> None:
    """Wait until the index holds exactly the source's rows; else say how they differ."""
    deadline = time.monotonic() + timeout_s
    while True:
        expected, actual = source_docs(url, name), index_docs(client, uid)
        if actual == expected:
            return
        if time.monotonic() > deadline:
            missing = sorted(expected.keys() - actual.keys(), key=int)
            extra = sorted(actual.keys() - expected.keys(), key=int)
            stale = sorted(
                (k for k in expected.keys() & actual.keys() if expected[k] != actual[k]), key=int
            )
            samples = [(expected[k], actual[k]) for k in stale[:3]]
            raise AssertionError(
                f"after {timeout_s}s the index differs from the source: {len(missing)} missing "
                f"{missing[:5]}, {len(extra)} extra {extra[:5]}, {len(stale)} stale {samples}"
            )
        time.sleep(0.5)


class Application(threading.Thread):
    """Inserts, updates and deletes, one short transaction each, riding out outages; at
    `per_s` changes a second when given (else as fast as a 5 ms pause between them allows)."""

    def __init__(
        self, url: str, table: str, seed: int, first_id: int = 1, per_s: float | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.first_id = first_id
        self.per_s = per_s
        self.engine = create_engine(normalise_url(url), pool_pre_ping=True)
        self.table, self.random = table, random.Random(seed)
        self.halt = threading.Event()
        self.changes = self.failures = 0

    def run(self) -> None:
        next_id = self.first_id
        due = time.monotonic()
        while not self.halt.is_set():
            roll, target = self.random.random(), self.random.randint(1, next_id)
            try:
                with self.engine.begin() as conn:
                    if roll < 0.4:
                        conn.execute(
                            text(f"INSERT INTO {self.table} VALUES (:i, :t, 0)"),
                            {"i": next_id, "t": f"new {next_id}"},
                        )
                        next_id += 1
                    elif roll < 0.8:
                        conn.execute(
                            text(f"UPDATE {self.table} SET title = :t, n = n + 1 WHERE id = :i"),
                            {"i": target, "t": f"upd {self.changes}"},
                        )
                    else:
                        conn.execute(text(f"DELETE FROM {self.table} WHERE id = :i"), {"i": target})
                self.changes += 1
            except DBAPIError:
                self.failures += 1  # the server is restarting: the next change tries again
                time.sleep(0.2)
            if self.per_s is None:
                time.sleep(0.005)
            else:
                due = max(due + 1 / self.per_s, time.monotonic() - 1)  # no burst after a stall
                time.sleep(max(0.0, due - time.monotonic()))
        self.engine.dispose()
