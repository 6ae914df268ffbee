"""PostgreSQL — the source and the state store that relay and consumer share — restarted
under the running services while the application keeps writing."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import meilisearch
import pytest

from tests.conftest import unique
from tests.faults.support import (
    Application,
    execute,
    make_table,
    restart,
    wait_index_equals_source,
)
from tests.integration.cli_support import run_cli, start_cli

ROWS = 300


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
    relay = start_cli(config, "relay", log=tmp_path / "relay.log")
    consumer = start_cli(config, "consume", log=tmp_path / "consumer.log")
    application = Application(pg_url, name, seed, first_id=ROWS + 1)
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
