"""Bootstrap while the source keeps changing and the relay and consumer run (SPEC §6):
once the consumer has caught up, the index equals the source. PostgreSQL, trigger capture,
real Kafka and Meilisearch; relay and consumer are the real CLI services in subprocesses."""

from __future__ import annotations

import importlib.util
import random
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from sqlalchemy import create_engine, text

from cdc_sync.bootstrap.run import staging_uid
from cdc_sync.config import load_settings
from cdc_sync.database_url import normalise_url
from cdc_sync.errors import DependencyUnavailable
from cdc_sync.kafka.reader import end_offsets
from tests.integration.cli_support import run_cli, start_cli, stop

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("cdc_sync.consumer.service") is None
    or importlib.util.find_spec("cdc_sync.source.service") is None,
    reason="needs the relay (cdc_sync.source.service) and consumer (cdc_sync.consumer.service)",
)

INITIAL = 4000


@pytest.fixture
def services() -> Iterator[Callable[[Path], None]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(config: Path) -> None:
        for command in ("relay", "consume"):
            started.append(start_cli(config, command))

    yield start
    stop(started)


class Writer(threading.Thread):
    """Random inserts, updates and deletes, one short transaction each, until stopped."""

    def __init__(self, url: str, table: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(normalise_url(url))
        self.table = table
        self.random = random.Random(seed)
        self.stop = threading.Event()
        self.changes = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        next_id = INITIAL + 1
        try:
            while not self.stop.is_set():
                roll, target = self.random.random(), self.random.randint(1, next_id)
                with self.engine.begin() as conn:
                    if roll < 0.4:
                        conn.execute(
                            text(f"INSERT INTO {self.table} VALUES (:i, :t, :n)"),
                            {"i": next_id, "t": f"new {next_id}", "n": 0},
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
                time.sleep(0.002)
        except BaseException as exc:
            self.error = exc
        finally:
            self.engine.dispose()


def source_docs(url: str, table: str) -> dict[str, dict[str, Any]]:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, title, n FROM {table}")).all()
    engine.dispose()
    return {str(r.id): {"id": str(r.id), "title": r.title, "n": r.n} for r in rows}


def index_docs(meili: meilisearch.Client, uid: str) -> dict[str, dict[str, Any]]:
    page = meili.http.post(f"indexes/{uid}/documents/fetch", {"limit": 100_000})
    return {d["id"]: d for d in page["results"]}


def wait_for_events(config: Path, timeout_s: float = 60) -> None:
    settings = load_settings(config)
    topic = settings.topic_of(settings.tables[0])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if sum(end_offsets(settings.kafka, topic, timeout_s=5).values()) > 20:
                return
        except DependencyUnavailable:
            pass  # the topic does not exist yet
        time.sleep(0.2)
    raise AssertionError("the relay published nothing")


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_index_equals_source_after_catch_up(
    seed: int,
    make_config: Callable[..., Path],
    pg_url: str,
    index_uid: str,
    meili: meilisearch.Client,
    services: Callable[[Path], None],
) -> None:
    table = f"items_{seed}"
    engine = create_engine(normalise_url(pg_url))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, title TEXT, n INTEGER)"))
        conn.execute(
            text(f"INSERT INTO {table} VALUES (:i, :t, 0)"),
            [{"i": i, "t": f"row {i}"} for i in range(1, INITIAL + 1)],
        )
    engine.dispose()
    config = make_config(
        pg_url,
        tables=[{"name": table.upper(), "primary_key": ["ID"], "index": index_uid}],
        relay={"poll_interval_ms": 50},
    )
    installed = run_cli(config, "source", "install")
    assert installed.returncode == 0, installed.stderr
    services(config)

    writer = Writer(pg_url, table, seed)
    writer.start()
    wait_for_events(config)  # the relay is publishing: changes flow before, during and after
    done = run_cli(config, "bootstrap", "--batch-size", "250")
    time.sleep(0.5)
    writer.stop.set()
    writer.join(10)
    assert writer.error is None, writer.error
    assert done.returncode == 0, done.stderr
    assert writer.changes > 50
    replayed = int(done.stdout.split(" changes replayed")[0].rsplit(" ", 1)[1])
    assert replayed > 0, done.stdout  # the catch-up path really ran

    expected = source_docs(pg_url, table)
    deadline = time.monotonic() + 90
    while (actual := index_docs(meili, index_uid)) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    missing = expected.keys() - actual.keys()
    extra = actual.keys() - expected.keys()
    differing = [k for k in expected.keys() & actual.keys() if expected[k] != actual[k]]
    assert (sorted(missing)[:5], sorted(extra)[:5], sorted(differing)[:5]) == ([], [], [])
    assert staging_uid(index_uid) not in {
        i.uid for i in meili.get_indexes({"limit": 1000})["results"]
    }
