"""Debezium records that change no row on a table topic, end to end (Kafka → cdc-sync
consume → Meilisearch).

A `topic` pointed at the heartbeat, transaction or schema-change topic (or a connector
routing them there): the consumer skips and counts them with a warning naming the topic,
applies the row changes around them, dead-letters nothing and commits to the end. A table
without a primary key: Debezium's record key is null; deletes apply by the configured
primary_key, and the null-key tombstones after them are counted and skipped.

The records are shaped as Debezium's docs and sources give them (see
tests/unit/test_events_shapes.py and test_events_keyless.py for the file and line of each).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import meilisearch
import pytest

from cdc_sync.config import Settings, load_settings
from cdc_sync.kafka.admin import admin_client, ensure_topics
from tests.conftest import unique
from tests.integration.consumer_support import (
    ConsumerProcess,
    end_offsets,
    index_documents,
    produce_raw,
)
from tests.unit.test_events_shapes import (
    HEARTBEAT_KEY,
    HEARTBEAT_SCHEMA,
    SCHEMA_CHANGE,
    SCHEMA_CHANGE_SCHEMA,
    SOURCE,
    TRANSACTION_BEGIN,
    TRANSACTION_END,
)

pytestmark = pytest.mark.stack


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def create(customer_id: int, name: str) -> tuple[bytes, bytes]:
    """A payload-only create event of oracle.adoc's CUSTOMERS table ("create events")."""
    after = {"ID": customer_id, "FIRST_NAME": name, "LAST_NAME": "Kretchmar", "EMAIL": None}
    value = {"before": None, "after": after, "source": SOURCE, "op": "c", "ts_ms": 1}
    return _json({"ID": customer_id}), _json(value)


@pytest.fixture
def debezium_table(
    make_config: Callable[..., Path], sqlite_url: str, meili: meilisearch.Client
) -> Iterator[Callable[..., tuple[Path, Settings, str, str]]]:
    """A `capture = "debezium"` table on a topic of its own: (config, settings, topic, index)."""
    made: list[tuple[Settings, str, str]] = []

    def make(name: str, primary_key: list[str]) -> tuple[Path, Settings, str, str]:
        index, topic = unique(name.lower()), unique(f"server1.DEBEZIUM.{name}")
        table = {
            "name": name,
            "schema": "DEBEZIUM",
            "primary_key": primary_key,
            "capture": "debezium",
            "topic": topic,
            "index": index,
        }
        config = make_config(sqlite_url, tables=[table], kafka={"partitions": 1})
        settings = load_settings(config)
        ensure_topics(settings.kafka, [topic])
        made.append((settings, topic, index))
        return config, settings, topic, index

    yield make
    for settings, topic, index in made:
        with contextlib.suppress(Exception):
            meili.delete_index(index)
        topics = [topic, settings.kafka.dead_letter_topic]
        for future in admin_client(settings.kafka).delete_topics(topics).values():
            with contextlib.suppress(Exception):
                future.result(30)


def consume_all(config: Path, log: Path) -> list[dict[str, Any]]:
    """`consume --until-caught-up`; its log lines."""
    with ConsumerProcess(config, log, "--until-caught-up") as run:
        assert run.wait(120) == 0, run.tail()
    return run.lines()


def dead_letters(settings: Settings) -> int:
    ends = end_offsets(settings.kafka.bootstrap_servers, [settings.kafka.dead_letter_topic])
    return sum(ends.values())


def finished(lines: list[dict[str, Any]]) -> str:
    return next(str(line["msg"]) for line in lines if "consume finished" in line["msg"])


def test_heartbeats_transactions_and_schema_changes_are_skipped_and_counted(
    debezium_table: Callable[..., Any], meili: meilisearch.Client, tmp_path: Path
) -> None:
    config, settings, topic, index = debezium_table("CUSTOMERS", ["ID"])
    heartbeat = _json({"schema": HEARTBEAT_SCHEMA, "payload": {"ts_ms": 1700000000000}})
    schema_change = _json({"schema": SCHEMA_CHANGE_SCHEMA, "payload": SCHEMA_CHANGE})
    records: list[tuple[str, bytes | None, bytes | None]] = [
        (topic, HEARTBEAT_KEY, heartbeat),
        (topic, _json({"databaseName": "ORCLPDB1"}), schema_change),
        (topic, _json({"id": "5.6.641"}), _json(TRANSACTION_BEGIN)),
        (topic, *create(1004, "Anne")),
        (topic, *create(1005, "Bo")),
        (topic, _json({"id": "5.6.641"}), _json(TRANSACTION_END)),
        (topic, HEARTBEAT_KEY, heartbeat),
        (topic, _json({"serverName": "server1"}), _json({"ts_ms": 1700000001000})),
    ]
    produce_raw(settings.kafka.bootstrap_servers, records)

    lines = consume_all(config, tmp_path / "consumer.log")
    documents = index_documents(meili, index)
    assert sorted(documents) == ["1004", "1005"]
    assert documents["1004"]["first_name"] == "Anne"
    assert dead_letters(settings) == 0
    warnings = [str(line["msg"]) for line in lines if line.get("level") == "warning"]
    for kind in ("heartbeat", "transaction metadata", "schema change"):
        assert any(topic in w and kind in w for w in warnings), (kind, warnings)
    assert len(warnings) == 3  # one per topic and kind, not one per record
    assert "6 skipped" in finished(lines) and "0 dead-lettered" in finished(lines)


def test_a_keyless_tables_deletes_apply_and_its_tombstones_are_skipped(
    debezium_table: Callable[..., Any], meili: meilisearch.Client, tmp_path: Path
) -> None:
    """Null record keys (TableSchemaBuilder.java:184): rows are indexed, and deleted, by the
    configured primary_key columns of their row images; the null-key tombstone after each
    delete (EventDispatcher.java:546-557) is counted and skipped."""
    config, settings, topic, index = debezium_table("AUDIT_LOG", ["LOG_ID"])
    source = {**SOURCE, "table": "AUDIT_LOG"}

    def event(op: str, before: Any, after: Any) -> tuple[str, None, bytes]:
        value = {"before": before, "after": after, "source": source, "op": op, "ts_ms": 1}
        return topic, None, _json(value)

    rows = [{"LOG_ID": i, "ACTION": f"action {i}"} for i in range(1, 6)]
    records: list[tuple[str, bytes | None, bytes | None]] = [
        *(event("c", None, row) for row in rows),
        event("u", rows[1], {**rows[1], "ACTION": "changed"}),
        event("d", rows[2], None),
        (topic, None, None),
        (topic, None, _json({**rows[3], "__deleted": "true"})),  # flattened, rewrite mode
    ]
    produce_raw(settings.kafka.bootstrap_servers, records)

    lines = consume_all(config, tmp_path / "consumer.log")
    documents = index_documents(meili, index)
    assert sorted(documents) == ["1", "2", "5"]
    assert documents["2"]["action"] == "changed"
    assert dead_letters(settings) == 0
    assert "1 skipped" in finished(lines)
    assert not [line for line in lines if line.get("level") == "warning"]
