"""A real Debezium PostgreSQL connector, the shapes the consumer must tell apart by what
Debezium guarantees rather than by column names, per converter setup (JSON with schemas;
flattened by ExtractNewRecordState in rewrite mode):

- a table without a primary key (REPLICA IDENTITY FULL): Debezium's record key is null
  (postgresql.adoc, "Change event keys"); its rows are indexed and deleted by the
  configured primary_key, and the null-key tombstones after deletes are skipped;
- a table with columns named ``source``, ``op``, ``before`` and ``after``: ordinary rows,
  also once flattened;
- heartbeats (``heartbeat.interval.ms``, topic ``__debezium-heartbeat.<prefix>``) and
  transaction metadata (``provide.transaction.metadata``, topic ``<prefix>.transaction``),
  read by the consumer because a table's `topic` points there: skipped and counted with a
  warning naming the topic, never dead-lettered.

Invariant: once every published record is committed, each index equals its table
(`cdc-sync verify`) and the dead-letter topic is empty.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from confluent_kafka.admin import AdminClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.integration.cli_support import run_cli
from tests.integration.consumer_support import ConsumerProcess
from tests.integration.debezium.pipeline import offsets, tolerant, write_settings
from tests.integration.debezium.support import (
    NAME_PREFIX,
    SETUPS,
    Connect,
    PostgresCapture,
    Setup,
    SlotJanitor,
    admin_engine,
    wait_for,
)

pytestmark = [pytest.mark.debezium, pytest.mark.stack]

SHAPE_SETUPS = [s for s in SETUPS if s != "avro"]  # Avro carries every field: as payload-only
DDL = (
    "CREATE TABLE public.{keyless} (log_id bigint NOT NULL, action text)",
    "ALTER TABLE public.{keyless} REPLICA IDENTITY FULL",
    "CREATE TABLE public.{odd} (id bigint PRIMARY KEY, source text, op text, before text,"
    " after text)",
    "INSERT INTO public.{keyless} SELECT i, 'snapshot ' || i FROM generate_series(1, 20) AS i",
    "INSERT INTO public.{odd} SELECT i, 'web', 'c', 'draft', 'paid' FROM generate_series(1, 20) i",
)
CHANGES = (
    "INSERT INTO public.{keyless} VALUES (21, 'new'), (22, 'newer')",
    "UPDATE public.{keyless} SET action = 'changed' WHERE log_id IN (2, 21)",
    "DELETE FROM public.{keyless} WHERE log_id IN (3, 4, 22)",
    "INSERT INTO public.{odd} VALUES (21, 'api', 'u', NULL, '{{\"op\": \"c\"}}')",
    "UPDATE public.{odd} SET op = 'd', source = 'batch' WHERE id = 2",
    "DELETE FROM public.{odd} WHERE id IN (5, 6)",
)


@dataclass
class Shapes:
    setup: Setup
    name: str
    keyless: str
    odd: str
    config: Path
    verify_config: Path
    topics: dict[str, str]
    source: Engine
    stack: dict[str, str]
    consumer: ConsumerProcess | None = None

    def sql(self, *statements: str) -> None:
        with self.source.begin() as conn:
            for statement in statements:
                conn.execute(text(statement.format(keyless=self.keyless, odd=self.odd)))

    def committed(self, topic: str) -> int:
        return offsets(self.stack["KAFKA_BOOTSTRAP_SERVERS"], topic, f"{self.name}-group")

    def all_consumed(self) -> bool:
        """Every record of the tables' own topics published and committed."""
        tables = [self.topics[self.keyless], self.topics[self.odd]]
        ends = [offsets(self.stack["KAFKA_BOOTSTRAP_SERVERS"], t) for t in tables]
        return all(ends) and ends == [self.committed(t) for t in tables]

    def dead_letters(self) -> int:
        return offsets(self.stack["KAFKA_BOOTSTRAP_SERVERS"], f"{self.name}-dlq")

    def in_sync(self) -> dict[str, Any]:
        done = run_cli(self.verify_config, "verify", "--json")
        assert done.returncode in (0, 1), done.stderr[-2000:]
        return {r["table"]: r for r in json.loads(done.stdout)}


def _tables(shapes_name: str, keyless: str, odd: str) -> list[Any]:
    tables: list[dict[str, Any]] = [
        {"name": keyless, "schema": "public", "primary_key": ["log_id"]},
        {"name": odd, "schema": "public", "primary_key": ["id"]},
    ]
    for table in tables:
        table |= {"capture": "debezium", "index": f"{shapes_name}_{table['name']}"}
    return tables


@pytest.fixture(scope="class", params=SHAPE_SETUPS)
def shapes(
    request: pytest.FixtureRequest,
    connect: Connect,
    slot_janitor: SlotJanitor,
    debezium_stack: dict[str, str],
    pg_url: str,
    meili: meilisearch.Client,
    kafka_admin: AdminClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Shapes]:
    setup: Setup = request.param
    name = f"{NAME_PREFIX}_shapes_{setup}_{uuid.uuid4().hex[:8]}"
    keyless, odd = f"keyless_{setup}", f"odd_{setup}"
    capture = PostgresCapture(name, pg_url, table=keyless, topic_prefix=name, partitions=1)
    topics = {
        keyless: f"{name}.public.{keyless}",
        odd: f"{name}.public.{odd}",
        "heartbeats": f"__debezium-heartbeat.{name}",
        "transactions": f"{name}.transaction",
    }
    tables = _tables(name, keyless, odd)
    probes = [  # tables whose `topic` points at Debezium's heartbeat and transaction topics
        {"name": probe, "primary_key": ["id"], "capture": "debezium", "topic": topics[probe]}
        for probe in ("heartbeats", "transactions")
    ]
    workdir = tmp_path_factory.mktemp(name)
    config = write_settings(workdir / "consume.toml", debezium_stack, capture, tables + probes)
    verify_config = write_settings(workdir / "verify.toml", debezium_stack, capture, tables)
    source = admin_engine(pg_url)
    line = Shapes(setup, name, keyless, odd, config, verify_config, topics, source, debezium_stack)
    line.sql(*DDL)
    connector = capture.config(setup, debezium_stack["SCHEMA_REGISTRY_URL"]) | {
        "table.include.list": f"public.{keyless},public.{odd}",
        "heartbeat.interval.ms": "500",
        "provide.transaction.metadata": "true",
    }
    try:
        connect.create(name, connector)
        connect.wait_running(name)
        line.consumer = ConsumerProcess(config, workdir / "consumer.log")
        yield line
    finally:
        if line.consumer is not None:
            line.consumer.kill()
        connect.delete(name)
        slot_janitor.drop(name, pg_url)
        with source.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS public.{keyless}, public.{odd}"))
        source.dispose()
        for table in tables:
            with contextlib.suppress(Exception):
                meili.delete_index(table["index"])
        for future in kafka_admin.delete_topics([*topics.values(), f"{name}-dlq"]).values():
            with contextlib.suppress(Exception):
                future.result(30)


def _wait_in_sync(shapes: Shapes, stage: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    def in_sync() -> bool:
        assert shapes.consumer is not None and shapes.consumer.proc.poll() is None
        if not shapes.all_consumed():
            return False
        found[:] = [shapes.in_sync()]
        return all(r["in_sync"] for r in found[0].values())

    try:
        wait_for(tolerant(in_sync), f"{stage}: every index equals its table", 120)
    except AssertionError:
        tail = shapes.consumer.tail() if shapes.consumer else ""
        raise AssertionError(f"{stage}: {found[0] if found else 'no comparison'}\n{tail}") from None
    return found[0]


class TestDebeziumShapes:
    def test_snapshot_of_a_keyless_table_and_of_envelope_named_columns(
        self, shapes: Shapes
    ) -> None:
        reports = _wait_in_sync(shapes, "snapshot")
        assert {t: r["source_rows"] for t, r in reports.items()} == {
            f"public.{shapes.keyless}": 20,
            f"public.{shapes.odd}": 20,
        }
        assert shapes.dead_letters() == 0

    def test_changes_deletes_and_tombstones_without_a_key(self, shapes: Shapes) -> None:
        shapes.sql(*CHANGES)
        reports = _wait_in_sync(shapes, "changes")
        assert reports[f"public.{shapes.keyless}"]["source_rows"] == 19
        assert reports[f"public.{shapes.odd}"]["source_rows"] == 19
        assert shapes.dead_letters() == 0

    def test_heartbeats_and_transactions_are_skipped_with_a_warning_naming_the_topic(
        self, shapes: Shapes
    ) -> None:
        consumer = shapes.consumer
        assert consumer is not None
        for topic in (shapes.topics["heartbeats"], shapes.topics["transactions"]):
            wait_for(tolerant(lambda t=topic: shapes.committed(t) > 0), f"{topic} consumed", 60)
        consumer.terminate()
        assert consumer.wait(60) == 0, consumer.tail()
        lines = consumer.lines()
        warnings = [str(line["msg"]) for line in lines if line.get("level") == "warning"]
        for topic, kind in (
            (shapes.topics["heartbeats"], "heartbeat"),
            (shapes.topics["transactions"], "transaction metadata"),
        ):
            assert any(topic in w and kind in w for w in warnings), (topic, warnings)
        finished = next(str(line["msg"]) for line in lines if "consume finished" in line["msg"])
        assert "0 dead-lettered" in finished, finished
        skipped = int(finished.split(" skipped")[0].rsplit(" ", 1)[-1])
        assert skipped >= 4, finished  # heartbeats, BEGIN/END pairs, keyless tombstones
        shapes.consumer = None
        assert shapes.dead_letters() == 0
