"""Avro through the real schema registry (Apicurio's Confluent-compatible API).

Records are written by confluent-kafka's AvroSerializer, which registers the
schema and prefixes the Confluent header, as Debezium's Avro converter does.
The same rows also go, as Debezium JSON with schemas, to a second table: both
indexes must end equal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from cdc_sync.config import Settings, load_settings
from cdc_sync.kafka.admin import admin_client, ensure_topics
from tests.conftest import ROOT, stack_up, unique
from tests.integration.consumer_support import (
    ConsumerProcess,
    group_offsets,
    index_documents,
    produce_raw,
    wait_for,
)
from tests.unit.test_events_avro import KEY_SCHEMA, avro_value_schema, json_record

pytestmark = pytest.mark.stack

ROWS = 300


def avro_after(i: int) -> dict[str, Any]:
    return {
        "ID": i,
        "PRICE": Decimal(i) / 100 if i % 7 else None,
        "RATIO": {"scale": 30, "value": (10**30 // 3 + i).to_bytes(13, "big", signed=True)},
        "BORN": dt.date(2000, 1, 1) + dt.timedelta(days=i),
        "DAY": 10_000 + i,
        "AT_MS": dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=i),
        "AT_US": 1_700_000_000_000_000 + i,
        "AT_NS": 1_700_000_000_000_000_000 + i,
        "AT_TZ": f"2024-02-29T13:05:{i % 60:02d}+09:00",
        "AT_TIME": i * 1_000_000,
        "PHOTO": None,
        "NOTE": f"note {i} ü",
        "BODY": "body",
        "BLOB": None,
        "EMPTY": None,
        "SCORE": i / 3,
    }


def json_after(i: int) -> dict[str, Any]:
    """The same row as Debezium's JsonConverter writes it (base64 bytes, epoch numbers)."""
    import base64

    row = avro_after(i)
    price = row["PRICE"]
    ratio = row["RATIO"]
    return {
        **row,
        "PRICE": None
        if price is None
        else base64.b64encode(int(price * 100).to_bytes(8, "big", signed=True)).decode(),
        "RATIO": {"scale": ratio["scale"], "value": base64.b64encode(ratio["value"]).decode()},
        "BORN": (row["BORN"] - dt.date(1970, 1, 1)).days,
        "AT_MS": int(row["AT_MS"].timestamp() * 1000),
    }


class AvroSetup:
    def __init__(self, config: Path, tmp_path: Path, registry: str) -> None:
        self.config = config
        self.settings: Settings = load_settings(config)
        self.tmp_path = tmp_path
        self.registry = SchemaRegistryClient({"url": registry})
        self.topics = {t.name: self.settings.topic_of(t) for t in self.settings.tables}
        self.indexes = {t.name: t.index_uid for t in self.settings.tables}
        ensure_topics(self.settings.kafka, list(self.topics.values()))
        self._runs = 0

    def serializers(self, topic: str, value_schema: dict[str, Any]) -> Callable[..., bytes]:
        conf = {"auto.register.schemas": True}
        key = AvroSerializer(self.registry, json.dumps(KEY_SCHEMA), conf=conf)
        value = AvroSerializer(self.registry, json.dumps(value_schema), conf=conf)

        def serialize(after: dict[str, Any] | None, ident: int, op: str = "c") -> bytes:
            if after is None:
                return key({"ID": ident}, SerializationContext(topic, MessageField.KEY))
            datum = {
                "before": None,
                "after": after,
                "source": {
                    "connector": "postgresql",
                    "schema": "APP",
                    "table": "ITEMS",
                    "lsn": ident,
                },
                "op": op,
                "ts_ms": 1,
            }
            return value(datum, SerializationContext(topic, MessageField.VALUE))

        return serialize

    def consumer(self, *args: str) -> ConsumerProcess:
        self._runs += 1
        return ConsumerProcess(self.config, self.tmp_path / f"consumer-{self._runs}.log", *args)

    def dead_letters(self) -> list[dict[str, str]]:
        consumer = Consumer(
            {"bootstrap.servers": self.settings.kafka.bootstrap_servers, "group.id": unique("dlq")}
        )
        topic = self.settings.kafka.dead_letter_topic
        try:
            metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
            if metadata is None or metadata.error is not None:
                return []
            consumer.assign([TopicPartition(topic, p, 0) for p in metadata.partitions])
            found = []
            idle_until = time.monotonic() + 3
            while time.monotonic() < idle_until:
                msg = consumer.poll(0.2)
                if msg is None or msg.error():
                    continue
                idle_until = time.monotonic() + 1
                found.append({k: v.decode() for k, v in (msg.headers() or [])})
            return found
        finally:
            consumer.close()

    def cleanup(self, meili: meilisearch.Client) -> None:
        for uid in self.indexes.values():
            with contextlib.suppress(Exception):
                meili.delete_index(uid)
        topics = [*self.topics.values(), self.settings.kafka.dead_letter_topic]
        for future in admin_client(self.settings.kafka).delete_topics(topics).values():
            with contextlib.suppress(Exception):
                future.result(30)


@pytest.fixture
def avro_setup(
    make_config: Callable[..., Path],
    sqlite_url: str,
    tmp_path: Path,
    meili: meilisearch.Client,
    schema_registry: str,
) -> Iterator[AvroSetup]:
    tables = [
        {"name": name, "primary_key": ["ID"], "index": unique(name.lower()), "capture": "debezium"}
        for name in ("ITEMS", "ITEMS_JSON")
    ]
    config = make_config(
        sqlite_url,
        tables=tables,
        kafka={
            "partitions": 6,
            "schema_registry_url": schema_registry,
            "extra": {"session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"},
        },
        consumer={"batch_size": 200, "linger_ms": 20, "shutdown_timeout_s": 10, "retry_max_s": 2},
    )
    setup = AvroSetup(config, tmp_path, schema_registry)
    yield setup
    setup.cleanup(meili)


def test_avro_through_the_registry_indexes_what_json_indexes(
    avro_setup: AvroSetup, meili: meilisearch.Client
) -> None:
    """Invariant: Avro (via the registry) and JSON with schemas give the same documents;
    an unknown schema id is a dead letter with its reason, and the stream goes on."""
    setup = avro_setup
    topic, json_topic = setup.topics["ITEMS"], setup.topics["ITEMS_JSON"]
    serialize = setup.serializers(topic, avro_value_schema())
    records: list[tuple[str, bytes | None, bytes | None]] = []
    for i in range(ROWS):
        records.append((topic, serialize(None, i), serialize(avro_after(i), i)))
        records.append((json_topic, *json_record(json_after(i))))
    for i in range(0, ROWS, 10):  # deletes: an event, then its tombstone
        deleted = {**avro_after(i), "ID": i}
        records.append((topic, serialize(None, i), serialize(deleted, i, op="d")))
        records.append((topic, serialize(None, i), None))
        json_key, json_value = json_record({**json_after(i), "ID": i}, op="d")
        records.append((json_topic, json_key, json_value))
    unknown = b"\x00" + (999_999).to_bytes(4, "big") + b"\x02"
    records.append((topic, serialize(None, 100_000), unknown))
    produce_raw(setup.settings.kafka.bootstrap_servers, records)

    with setup.consumer("--until-caught-up") as run:
        assert run.wait(180) == 0, run.tail()

    avro_docs = index_documents(meili, setup.indexes["ITEMS"])
    json_docs = index_documents(meili, setup.indexes["ITEMS_JSON"])
    assert len(avro_docs) == ROWS - ROWS // 10
    assert avro_docs == json_docs
    doc = avro_docs["1"]
    assert (doc["price"], doc["born"], doc["at_us"]) == (
        0.01,
        "2000-01-02",
        "2023-11-14T22:13:20.000001",
    )
    assert doc["ratio"] == "0.333333333333333333333333333334"  # 10**30 // 3 + 1, scale 30
    assert doc["at_tz"] == "2024-02-29T13:05:01+09:00" and doc["note"] == "note 1 ü"
    letters = setup.dead_letters()
    assert len(letters) == 1, letters
    assert "schema id 999999 is not in the schema registry" in letters[0]["cdc.error.reason"]


def documents(meili: meilisearch.Client, uid: str) -> dict[str, dict[str, Any]]:
    try:
        return index_documents(meili, uid)
    except meilisearch.errors.MeilisearchApiError:
        return {}  # not created yet


def stack(*args: str) -> None:
    done = subprocess.run(
        [str(ROOT / "dev" / "stack"), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_registry_stopped_and_restarted_mid_stream_loses_nothing(
    avro_setup: AvroSetup, meili: meilisearch.Client
) -> None:
    """Invariant: while the registry does not answer, records wait (offsets held, nothing
    dead-lettered); after it is back, the index holds every record."""
    setup = avro_setup
    topic = setup.topics["ITEMS"]
    first = setup.serializers(topic, avro_value_schema())
    produce_raw(
        setup.settings.kafka.bootstrap_servers,
        [(topic, first(None, i), first(avro_after(i), i)) for i in range(100)],
    )
    # A second schema version: its id is new to the running consumer.
    second_schema = avro_value_schema()
    second_schema["fields"].append({"name": "extra", "type": ["null", "string"], "default": None})
    second = setup.serializers(topic, second_schema)
    later = [
        (topic, second(None, i), second({**avro_after(i), "NOTE": f"v2 {i}"}, i))
        for i in range(50, 250)
    ]

    with setup.consumer() as run:
        uid = setup.indexes["ITEMS"]
        wait_for(lambda: len(documents(meili, uid)) == 100, 60, "the first 100 documents")
        stack("down", "registry")
        try:
            produce_raw(setup.settings.kafka.bootstrap_servers, later)
            wait_for(
                lambda: "does not answer" in run.log.read_text(errors="replace"),
                60,
                "the consumer to meet the stopped registry",
            )
            time.sleep(3)
            docs = index_documents(meili, uid)
            assert all(d["note"].startswith("note") for d in docs.values())
            topics = [topic]
            committed = sum(
                max(o, 0)
                for o in group_offsets(
                    setup.settings.kafka.bootstrap_servers, setup.settings.kafka.group_id, topics
                ).values()
            )
            assert committed <= 100, "offsets moved past records that were not applied"
        finally:
            stack_up("registry")
        wait_for(lambda: len(documents(meili, uid)) == 250, 120, "all 250 documents")
        run.terminate()
        assert run.wait(60) == 0, run.tail()
    docs = index_documents(meili, uid)
    assert {d["note"] for k, d in docs.items() if int(k) >= 50} == {
        f"v2 {i}" for i in range(50, 250)
    }
    assert setup.dead_letters() == []
