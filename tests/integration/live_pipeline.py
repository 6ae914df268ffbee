"""A live pipeline of two PostgreSQL tables for the operator-facing tests.

ITEMS is captured by triggers, NOTES by timestamp; `relay` and `consume` run as
child processes, the consumer serving its HTTP endpoint. Tests make changes
with `sql` and wait on the index with `documents`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import meilisearch
import tomli_w
from sqlalchemy import Engine, create_engine, text

from cdc_sync.database_url import normalise_url
from tests.conftest import unique
from tests.integration.cli_support import run_cli
from tests.integration.consumer_support import ConsumerProcess, wait_for

HTTP_PORT_ENV = "CDC_TEST_HTTP_PORT"
"""Port for the consumer's endpoint in these tests (default: any free port)."""


@dataclass
class LivePipeline:
    config: Path
    engine: Engine
    meili: meilisearch.Client
    indexes: dict[str, str]
    consumer: ConsumerProcess
    relay: ConsumerProcess | None = None

    def sql(self, statement: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(statement), params)

    def documents(self, table: str) -> int:
        try:
            stats = self.meili.index(self.indexes[table]).get_stats()
        except meilisearch.errors.MeilisearchApiError:
            return 0
        return int(stats.number_of_documents)

    def status(self) -> dict[str, Any]:
        done = run_cli(self.config, "status", "--json")
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def start_relay(self, log: Path) -> None:
        self.relay = ConsumerProcess(
            self.config, log, command="relay", env={"CDC_SYNC__HTTP__ENABLED": "false"}
        )

    @property
    def url(self) -> str:
        """The consumer's endpoint, as it logged it."""
        found: list[str] = []

        def logged() -> bool:
            found[:] = re.findall(
                r"http endpoint on (http://[A-Za-z0-9.:\[\]-]+)", self.consumer.log.read_text()
            )
            return bool(found)

        wait_for(logged, 60, "the consumer's http endpoint")
        return found[-1]


def write_config(tmp: Path, stack: dict[str, str], pg_url: str, indexes: dict[str, str]) -> Path:
    config = {
        "source": {"url": pg_url},
        "kafka": {
            "bootstrap_servers": stack["KAFKA_BOOTSTRAP_SERVERS"],
            "topic_prefix": unique("cdc"),
            "group_id": unique("group"),
            "dead_letter_topic": unique("dlq"),
            "partitions": 3,
        },
        "meilisearch": {"url": stack["MEILI_URL"], "api_key": stack["MEILI_MASTER_KEY"]},
        "state": {"url": f"sqlite:///{tmp / 'state.db'}"},
        "http": {"port": int(os.environ.get(HTTP_PORT_ENV, "0"))},
        "relay": {"poll_interval_ms": 100, "overlap_s": 2},
        "tables": [
            {"name": "ITEMS", "primary_key": ["ID"], "index": indexes["ITEMS"]},
            {
                "name": "NOTES",
                "primary_key": ["ID"],
                "index": indexes["NOTES"],
                "capture": "timestamp",
                "modified_column": "MODIFIED",
            },
        ],
    }
    path = tmp / "cdc-sync.toml"
    path.write_bytes(tomli_w.dumps(config).encode())
    return path


@contextlib.contextmanager
def live_pipeline(
    tmp: Path, stack: dict[str, str], pg_url: str, meili: meilisearch.Client
) -> Iterator[LivePipeline]:
    """Tables created and captured, 5 items and 3 notes in the source; the consumer runs.

    The relay is not started: a test may look at the waiting backlog first."""
    indexes = {"ITEMS": unique("items"), "NOTES": unique("notes")}
    config = write_config(tmp, stack, pg_url, indexes)
    engine = create_engine(normalise_url(pg_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT)"))
        conn.execute(
            text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, modified TIMESTAMP)")
        )
    consumer = ConsumerProcess(config, tmp / "consume.log")
    pipeline = LivePipeline(config, engine, meili, indexes, consumer)
    try:
        installed = run_cli(pipeline.config, "source", "install")
        assert installed.returncode == 0, installed.stderr
        pipeline.sql("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5) g")
        pipeline.sql(
            "INSERT INTO notes SELECT g, 'note ' || g, now() AT TIME ZONE 'UTC' "
            "FROM generate_series(1, 3) g"
        )
        yield pipeline
    finally:
        # a test may have replaced the consumer (restarted it): stop the one running too
        for process in dict.fromkeys((pipeline.relay, consumer, pipeline.consumer)):
            if process is not None and process.proc.poll() is None:
                process.terminate()
                with contextlib.suppress(AssertionError):
                    process.wait(30)
        engine.dispose()
        for uid in indexes.values():
            with contextlib.suppress(Exception):
                meili.delete_index(uid)
