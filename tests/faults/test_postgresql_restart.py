"""PostgreSQL — the source and the state store that relay and consumer share — restarted
under the running services while the application keeps writing."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import meilisearch
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import unique
from tests.faults.support import (
    cli,
    engine_url,
    execute,
    make_table,
    restart,
    wait_index_equals_source,
)
from tests.integration.cli_support import run_cli

ROWS = 300


class Application(threading.Thread):
    """Inserts, updates and deletes, one short transaction each, riding out outages."""

    def __init__(self, url: str, table: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(engine_url(url), pool_pre_ping=True)
        self.table, self.random = table, random.Random(seed)
        self.halt = threading.Event()
        self.changes = self.failures = 0

    def run(self) -> None:
        next_id = ROWS + 1
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
            time.sleep(0.005)
        self.engine.dispose()


@pytest.mark.parametrize("seed", [1, 2], ids=lambda seed: f"seed={seed}")
def test_relay_and_consumer_ride_out_postgresql_restarts(
    seed: int,
    make_config: Callable[..., Path],
    pg_url: str,
    index_uid: str,
    meili: meilisearch.Client,
    tmp_path: Path,
) -> None:
    """Invariant: the index equals the source after recovery — two restarts of PostgreSQL
    (source, change log and shared state store) at seeded moments cost the relay and the
    consumer retries only; neither stops."""
    name = unique("items")
    make_table(pg_url, name, 0)
    config = make_config(
        pg_url,
        tables=[{"name": name.upper(), "primary_key": ["ID"], "index": index_uid}],
        state={"url": pg_url},
        consumer={"retry_max_s": 1},
    )
    installed = run_cli(config, "source", "install")
    assert installed.returncode == 0, installed.stderr
    execute(
        pg_url, f"INSERT INTO {name} SELECT i, 'row ' || i, 0 FROM generate_series(1, {ROWS}) i"
    )
    relay = cli(config, "relay", log=tmp_path / "relay.log")
    consumer = cli(config, "consume", log=tmp_path / "consumer.log")
    application = Application(pg_url, name, seed)
    try:
        application.start()
        rng = random.Random(seed)
        for _ in range(2):
            time.sleep(rng.uniform(1.0, 3.0))
            restart("postgres")
        time.sleep(rng.uniform(0.5, 1.5))
        application.halt.set()
        application.join(30)
        assert application.failures > 0 and application.changes > 100
        wait_index_equals_source(meili, index_uid, pg_url, name)
        for service, log in ((relay, "relay.log"), (consumer, "consumer.log")):
            assert service.poll() is None, (tmp_path / log).read_text()[-3000:]
            service.terminate()
            assert service.wait(30) == 0, (tmp_path / log).read_text()[-3000:]
    finally:
        application.halt.set()
        for service in (relay, consumer):
            if service.poll() is None:
                service.kill()
    assert "retry" in (tmp_path / "relay.log").read_text()
