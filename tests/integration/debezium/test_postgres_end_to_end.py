"""Real Debezium PostgreSQL connector → Kafka → `cdc-sync consume` → Meilisearch, per converter setup.

Each setup (JSON with schemas; JSON flattened by ExtractNewRecordState in
rewrite mode; Avro through the schema registry) gets one connector, one table
and one consumer process for the whole class; the tests run in order against
that pipeline. The invariant everywhere: once every published record is
committed, the index equals the table (`cdc-sync verify`'s comparison).
"""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import meilisearch
import pytest
from confluent_kafka.admin import AdminClient

from tests.integration.cli_support import run_cli
from tests.integration.debezium.conftest import RESULTS
from tests.integration.debezium.pipeline import (
    SNAPSHOT_ROWS,
    SNAPSHOT_SQL,
    TABLE_DDL,
    TOAST_SQL,
    TOASTED_IDS,
    Pipeline,
    dev_stack,
    write_config,
)
from tests.integration.debezium.support import (
    NAME_PREFIX,
    SETUPS,
    Connect,
    PostgresCapture,
    Setup,
    SlotJanitor,
    admin_engine,
)

pytestmark = [pytest.mark.debezium, pytest.mark.stack]


@pytest.fixture(scope="class", params=SETUPS)
def pipeline(
    request: pytest.FixtureRequest,
    connect: Connect,
    slot_janitor: SlotJanitor,
    debezium_stack: dict[str, str],
    pg_url: str,
    meili: meilisearch.Client,
    kafka_admin: AdminClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    setup: Setup = request.param
    name = f"{NAME_PREFIX}_{setup}_{uuid.uuid4().hex[:8]}"
    capture = PostgresCapture(name=name, pg_url=pg_url, table=f"items_{setup}", topic_prefix=name)
    workdir = tmp_path_factory.mktemp(name)
    config = write_config(workdir / "cdc-sync.toml", debezium_stack, capture, index=name)
    source = admin_engine(pg_url)
    line = Pipeline(setup, capture, config, name, source, meili, debezium_stack)
    line.sql(TABLE_DDL)
    line.sql(SNAPSHOT_SQL.replace("{rows}", str(SNAPSHOT_ROWS)))
    line.sql(TOAST_SQL)
    try:
        connect.create(name, capture.config(setup, debezium_stack["SCHEMA_REGISTRY_URL"]))
        connect.wait_running(name)
        line.start_consumer()
        yield line
    finally:
        with contextlib.suppress(Exception):
            RESULTS.append(
                f"{setup}: {line.events()} events on {capture.partitions} partitions; "
                f"index equals table after: {'; '.join(line.proven) or 'nothing'}"
            )
        if line.consumer is not None:
            line.consumer.kill()
        connect.delete(name)
        slot_janitor.drop(name, pg_url)
        source.dispose()
        with contextlib.suppress(Exception):
            meili.delete_index(name)
        for future in kafka_admin.delete_topics([capture.topic, f"{name}-dlq"]).values():
            with contextlib.suppress(Exception):
                future.result(30)


class TestDebeziumPostgres:
    def test_snapshot_equals_table(self, pipeline: Pipeline) -> None:
        """Invariant: after Debezium's initial snapshot (≥ 1,000 rows) the index equals the table."""
        report = pipeline.wait_in_sync("snapshot")
        assert report.source_rows == SNAPSHOT_ROWS
        assert pipeline.dead_letters() == 0

    def test_changes_equal_table(self, pipeline: Pipeline) -> None:
        """Invariant: inserts, updates, a key change, hard and soft deletes, a multi-change
        transaction, NULLs, edge timestamps and an unchanged TOASTed column all end with the
        index equal to the table, and the TOASTed body kept (Debezium sent a placeholder)."""
        pipeline.sql(
            "INSERT INTO public.{table} (id, name, qty) "
            "SELECT i, 'new ' || i, i FROM generate_series(2001, 2050) AS i"
        )
        pipeline.sql(
            "UPDATE public.{table} SET name = name || ' (edited)', qty = -qty WHERE id <= 20"
        )
        pipeline.sql("UPDATE public.{table} SET id = 3001 WHERE id = 21")
        pipeline.sql("DELETE FROM public.{table} WHERE id BETWEEN 30 AND 39")
        pipeline.sql("UPDATE public.{table} SET del_yn = 'Y' WHERE id BETWEEN 40 AND 44")
        pipeline.sql(
            "INSERT INTO public.{table} (id, name) VALUES (2100, 'short-lived')",
            "UPDATE public.{table} SET name = 'changed twice', qty = 7 WHERE id = 2100",
            "UPDATE public.{table} SET note = 'same transaction' WHERE id = 45",
            "DELETE FROM public.{table} WHERE id = 46",
        )
        pipeline.sql(
            "UPDATE public.{table} SET note = NULL, price = NULL, amount = NULL WHERE id = 47"
        )
        pipeline.sql(
            "INSERT INTO public.{table} (id, name) VALUES (2200, 'all optional columns NULL')"
        )
        pipeline.sql(
            "INSERT INTO public.{table} (id, name, created_at, changed_at) VALUES "
            "(2301, 'epoch', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00'),"
            "(2302, 'before epoch', '1900-03-01 12:00:00.000001', '1900-03-01 12:00:00+09:30'),"
            "(2303, 'far', '2038-01-19 03:14:08.999999', '2262-04-11 23:47:16.854775+00'),"
            "(2304, 'odd zone', '2024-02-29 23:59:59.5', '2024-06-30 23:59:59.999999-03:30')"
        )
        pipeline.sql("UPDATE public.{table} SET qty = qty + 1 WHERE id IN (100, 101, 102)")

        pipeline.wait_in_sync("changes")
        bodies = pipeline.documents(list(TOASTED_IDS))
        assert all(len(bodies[i]["body"]) == 700 * 32 for i in TOASTED_IDS)
        assert pipeline.dead_letters() == 0

    def test_numbers_keep_every_digit(self, pipeline: Pipeline) -> None:
        """Invariant: a NUMERIC comes out with the digits that went in: a JSON number where a
        64-bit float holds it exactly, else the exact decimal string, never exponent form."""
        golden: dict[int, tuple[str, Any]] = {
            5001: ("0.333333333333333333333333333333333", "0.333333333333333333333333333333333"),
            5002: (
                "123456789012345678901234567890.123456789",
                "123456789012345678901234567890.123456789",
            ),
            5003: ("-999999999999999999999999999999.99", "-999999999999999999999999999999.99"),
            5004: ("0.000000012345678901234567891", "0.000000012345678901234567891"),
            5005: (
                "12345678901234567890123456789012345678",
                "12345678901234567890123456789012345678",
            ),
            5006: ("9007199254740993", "9007199254740993"),
            5007: ("42", 42),
            5008: ("-1.5", -1.5),
        }
        for row_id, (value, _) in golden.items():
            pipeline.sql(
                "INSERT INTO public.{table} (id, name, amount) VALUES (:id, 'number', CAST(:v AS numeric))",
                id=row_id,
                v=value,
            )
        pipeline.wait_in_sync("numeric edge rows")
        documents = pipeline.documents(list(golden))
        got = {row_id: documents[row_id]["amount"] for row_id in golden}
        assert got == {row_id: expected for row_id, (_, expected) in golden.items()}

    def test_truncate_then_rows_at_six_partitions(self, pipeline: Pipeline) -> None:
        """Invariant: a TRUNCATE followed by new rows, on a 6-partition topic, ends with the
        index equal to the table, also when the consumer meets them as one backlog (every
        partition has records waiting). The flattening SMT drops truncate events, so there the
        old documents stay until `cdc-sync verify --repair` removes them (the documented remedy)."""
        before = pipeline.events()
        pipeline.stop_consumer()
        pipeline.sql("TRUNCATE public.{table}")
        for row_id in range(7001, 7061):
            pipeline.sql(
                "INSERT INTO public.{table} (id, name) VALUES (:id, 'after truncate')", id=row_id
            )
        pipeline.start_consumer()

        if pipeline.setup == "flattened":
            pipeline.wait_consumed(before + 60)
            report = pipeline.compare()
            assert report.source_rows == 60
            assert report.count("extra") and not report.count("missing"), report.report
            repaired = run_cli(pipeline.config, "verify", "--repair")
            assert repaired.returncode == 0, repaired.stdout + repaired.stderr
            report = pipeline.compare()
            assert report.in_sync, report.report
            pipeline.prove("truncate + 60 rows, then verify --repair", report)
            return

        pipeline.wait_consumed(before + 61)
        report = pipeline.compare()
        assert report.in_sync, report.report
        assert report.source_rows == 60
        pipeline.prove("truncate + 60 rows", report)

    def test_registry_restart_loses_nothing(self, pipeline: Pipeline) -> None:
        """Invariant: while the registry is down the consumer waits (no dead letter, nothing
        committed past what it applied); once it is back the index equals the table."""
        if pipeline.setup != "avro":
            pytest.skip("only the Avro setup reads the schema registry")
        pipeline.stop_consumer()
        dev_stack("down", "registry")
        try:
            pipeline.sql(
                "INSERT INTO public.{table} (id, name) "
                "SELECT i, 'while the registry is down' FROM generate_series(8001, 8020) AS i"
            )
            pipeline.start_consumer()  # a fresh process: no schema cached
            committed = pipeline.consumed()
            assert pipeline.consumer is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                pipeline.consumer.proc.wait(8)  # it must keep running, not exit
            assert pipeline.consumer.proc.poll() is None, pipeline.consumer.tail()
            assert pipeline.consumed() == committed
        finally:
            dev_stack("up", "registry")
        pipeline.wait_in_sync("registry restart")
        assert pipeline.dead_letters() == 0
