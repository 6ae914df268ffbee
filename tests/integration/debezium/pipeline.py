"""One PostgreSQL table → real Debezium connector → Kafka → `cdc-sync consume` → Meilisearch."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import meilisearch
import tomli_w
from confluent_kafka import Consumer, KafkaException, TopicPartition
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.conftest import ROOT
from tests.integration.cli_support import run_cli
from tests.integration.consumer_support import ConsumerProcess
from tests.integration.debezium.support import PostgresCapture, Setup, wait_for

log = logging.getLogger(__name__)

TABLE_DDL = """
CREATE TABLE public.{table} (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    qty integer,
    price numeric(12, 2),
    amount numeric,
    note text,
    del_yn char(1) NOT NULL DEFAULT 'N',
    created_at timestamp(6),
    changed_at timestamptz,
    body text
)"""

SNAPSHOT_ROWS = 1200
SNAPSHOT_SQL = """
INSERT INTO public.{table} (id, name, qty, price, amount, note, created_at, changed_at)
SELECT i, 'item ' || i, i, i * 1.25, i / 7.0,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'note ' || i END,
       timestamp '2024-01-01 00:00:00' + i * interval '1 minute 0.123456 second',
       timestamptz '2024-01-01 00:00:00+02' + i * interval '1 hour 0.5 second'
FROM generate_series(1, {rows}) AS i"""

# Rows whose `body` PostgreSQL keeps out of line (TOAST): random text does not compress.
TOASTED_IDS = (100, 101, 102)
TOAST_SQL = """
UPDATE public.{table}
SET body = (SELECT string_agg(md5(random()::text || g), '') FROM generate_series(1, 700) AS g)
WHERE id IN (100, 101, 102)"""


def write_config(path: Path, stack: dict[str, str], capture: PostgresCapture, index: str) -> Path:
    table = {
        "name": capture.table,
        "schema": "public",
        "primary_key": ["id"],
        "capture": "debezium",
        "topic": capture.topic,
        "index": index,
        "soft_delete": {"column": "del_yn", "value": "Y"},
    }
    return write_settings(path, stack, capture, [table])


def write_settings(
    path: Path, stack: dict[str, str], capture: PostgresCapture, tables: list[dict[str, Any]]
) -> Path:
    """A config for `capture`'s connector: its prefix, a group and dead-letter topic named
    after it, the stack's servers, and `tables`."""
    config = {
        "source": {"url": capture.pg_url},
        "kafka": {
            "bootstrap_servers": stack["KAFKA_BOOTSTRAP_SERVERS"],
            "topic_prefix": capture.topic_prefix,
            "group_id": f"{capture.name}-group",
            "dead_letter_topic": f"{capture.name}-dlq",
            "partitions": capture.partitions,
            "schema_registry_url": stack["SCHEMA_REGISTRY_URL"],
        },
        "meilisearch": {"url": stack["MEILI_URL"], "api_key": stack["MEILI_MASTER_KEY"]},
        "state": {"url": f"sqlite:///{path.parent / 'state.db'}"},
        "http": {"enabled": False},
        "tables": tables,
    }
    path.write_bytes(tomli_w.dumps(config).encode())
    return path


def offsets(bootstrap: str, topic: str, group: str | None = None) -> int:
    """Sum over the topic's partitions of its end offsets (or of `group`'s committed ones)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group or "cdc-sync-offsets-probe"}
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return 0
        partitions = [TopicPartition(topic, p) for p in metadata.partitions]
        if group is not None:
            committed = consumer.committed(partitions, timeout=10)
            return sum(max(tp.offset, 0) for tp in committed)
        return sum(consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions)
    finally:
        consumer.close()


@dataclass(frozen=True)
class Comparison:
    """One table's report from `cdc-sync verify --json`."""

    report: dict[str, Any]

    @property
    def in_sync(self) -> bool:
        return bool(self.report["in_sync"])

    @property
    def source_rows(self) -> int:
        return int(self.report["source_rows"])

    def count(self, kind: str) -> int:  # missing | extra | differing
        return int(self.report[kind]["count"])


def tolerant(condition: Callable[[], bool]) -> Callable[[], bool]:
    """`condition`, where a probe's error (a broker still creating its offsets topic, an
    index being created) means "not yet"; assertion errors still end the wait."""

    def probe() -> bool:
        try:
            return condition()
        except (KafkaException, httpx.HTTPError) as exc:
            log.info("probe not ready yet: %r", exc)
            return False

    return probe


@dataclass
class Pipeline:
    setup: Setup
    capture: PostgresCapture
    config: Path
    index: str
    source: Engine
    meili: meilisearch.Client
    stack: dict[str, str]
    consumer: ConsumerProcess | None = None
    proven: list[str] = field(default_factory=list)  # "stage (rows, events)" where index == table

    def sql(self, *statements: str, **params: Any) -> None:
        """Run statements in one transaction."""
        with self.source.begin() as conn:
            for statement in statements:
                conn.execute(text(statement.format(table=self.capture.table)), params)

    def start_consumer(self) -> None:
        log = self.config.parent / f"consumer-{self.setup}.log"
        self.consumer = ConsumerProcess(self.config, log)

    def stop_consumer(self) -> None:
        if self.consumer is not None:
            self.consumer.terminate()
            self.consumer.wait(60)
            self.consumer = None

    def events(self) -> int:
        return offsets(self.stack["KAFKA_BOOTSTRAP_SERVERS"], self.capture.topic)

    def consumed(self) -> int:
        group = f"{self.capture.name}-group"
        return offsets(self.stack["KAFKA_BOOTSTRAP_SERVERS"], self.capture.topic, group)

    def dead_letters(self) -> int:
        return offsets(self.stack["KAFKA_BOOTSTRAP_SERVERS"], f"{self.capture.name}-dlq")

    def compare(self) -> Comparison:
        """`cdc-sync verify --json` for the table: the product's own source/index comparison."""
        done = run_cli(self.config, "verify", "--json")
        if done.returncode not in (0, 1):
            raise AssertionError(f"cdc-sync verify failed:\n{done.stderr[-2000:]}")
        return Comparison(json.loads(done.stdout)[0])

    def _alive(self) -> None:
        if self.consumer is not None and self.consumer.proc.poll() is not None:
            raise AssertionError(f"the consumer exited:\n{self.consumer.tail()}")

    def wait_consumed(self, at_least: int, timeout_s: float = 90) -> None:
        """Debezium published at least `at_least` records and the group committed them all."""

        def done() -> bool:
            self._alive()
            end = self.events()
            return end >= at_least and self.consumed() == end

        wait_for(tolerant(done), f"{at_least} records published and consumed", timeout_s)

    def prove(self, stage: str, report: Comparison) -> None:
        self.proven.append(f"{stage} ({report.source_rows} rows, {self.events()} events)")

    def wait_in_sync(self, stage: str, timeout_s: float = 90) -> Comparison:
        """Index equals table, with every published record committed (so it stays equal)."""
        last: list[Comparison] = []

        def in_sync() -> bool:
            self._alive()
            end = self.events()
            if end == 0 or self.consumed() != end:
                return False
            last[:] = [self.compare()]
            return last[0].in_sync

        try:
            wait_for(tolerant(in_sync), "index equals table", timeout_s)
        except AssertionError:
            summary = last[0].report if last else "no comparison made"
            tail = self.consumer.tail() if self.consumer else ""
            raise AssertionError(f"index differs from table: {summary}\n{tail}") from None
        self.prove(stage, last[0])
        return last[0]

    def documents(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        response = httpx.post(
            f"{self.stack['MEILI_URL']}/indexes/{self.index}/documents/fetch",
            json={"ids": [str(i) for i in ids], "limit": len(ids)},
            headers={"Authorization": f"Bearer {self.stack['MEILI_MASTER_KEY']}"},
            timeout=30,
        ).raise_for_status()
        return {int(doc["id"]): doc for doc in response.json()["results"]}


def dev_stack(*args: str) -> None:
    done = subprocess.run(
        [str(ROOT / "dev" / "stack"), *args], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise AssertionError(f"dev/stack {' '.join(args)} failed:\n{done.stderr[-2000:]}")
