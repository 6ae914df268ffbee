"""A table topic that also carries Debezium records that change no row (a `topic` pointed at
the heartbeat, transaction or schema-change topic, or a connector writing them there): the
consumer skips and counts them with a warning naming the topic, applies the row changes
around them, dead-letters nothing and commits to the end.

The records are shaped as Debezium's docs and sources give them (see
tests/unit/test_events_shapes.py for the file and line of each)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import meilisearch
import pytest

from cdc_sync.config import load_settings
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
def customers(make_config: Callable[..., Path], sqlite_url: str, meili: meilisearch.Client) -> Any:
    index = unique("customers")
    table = {
        "name": "CUSTOMERS",
        "schema": "DEBEZIUM",
        "primary_key": ["ID"],
        "capture": "debezium",
        "topic": unique("server1.DEBEZIUM.CUSTOMERS"),
        "index": index,
    }
    config = make_config(sqlite_url, tables=[table], kafka={"partitions": 1})
    settings = load_settings(config)
    ensure_topics(settings.kafka, [table["topic"]])
    yield config, settings, table["topic"], index
    with contextlib.suppress(Exception):
        meili.delete_index(index)
    topics = [table["topic"], settings.kafka.dead_letter_topic]
    for future in admin_client(settings.kafka).delete_topics(topics).values():
        with contextlib.suppress(Exception):
            future.result(30)


def test_heartbeats_transactions_and_schema_changes_are_skipped_and_counted(
    customers: Any, meili: meilisearch.Client, tmp_path: Path
) -> None:
    config, settings, topic, index = customers
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

    with ConsumerProcess(config, tmp_path / "consumer.log", "--until-caught-up") as run:
        assert run.wait(120) == 0, run.tail()
    documents = index_documents(meili, index)
    assert sorted(documents) == ["1004", "1005"]
    assert documents["1004"]["first_name"] == "Anne"
    letters = end_offsets(settings.kafka.bootstrap_servers, [settings.kafka.dead_letter_topic])
    assert not any(letters.values())
    lines = run.lines()
    warnings = [line["msg"] for line in lines if line.get("level") == "warning"]
    for kind in ("heartbeat", "transaction metadata", "schema change"):
        assert any(topic in w and kind in w for w in warnings), (kind, warnings)
    assert len(warnings) == 3  # one per topic and kind, not one per record
    finished = next(line["msg"] for line in lines if "consume finished" in line["msg"])
    assert "6 skipped" in finished and "0 dead-lettered" in finished
