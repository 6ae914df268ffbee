"""Truncates in order at 6 partitions, on the real Kafka and Meilisearch.

Debezium-shaped PostgreSQL events (``source.sequence`` = last commit LSN and
LSN) are produced in source order, each row's events on its key's partition and
the truncate (null key) on one partition, as the connector does. The partition
holding the truncate is crowded with earlier events, so the consumer reads the
other partitions' later events first; another partition is crowded even more,
so its earlier events are still unread when the truncate is. The index must end
equal to the table the events describe.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from confluent_kafka import Producer

from cdc_sync.config import Settings, load_settings
from cdc_sync.kafka.admin import admin_client, ensure_topics
from tests.conftest import unique
from tests.integration.consumer_support import ConsumerProcess, index_documents, wait_for

pytestmark = pytest.mark.stack

PARTITIONS = 6
TRUNCATE_PARTITION = 0
CROWDED = 3  # even more earlier events than the truncate's partition


@dataclass
class Scenario:
    records: list[tuple[int, bytes | None, bytes | None]] = field(default_factory=list)
    """(partition, key, value) in source order."""
    table: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The source table after every event: id → row."""
    lsn: int = 1000
    last_commit: int = 0
    truncates: int = 0


def partition_of(ident: int) -> int:
    return ident % PARTITIONS


def key(ident: int) -> bytes:
    return json.dumps({"ID": ident}).encode()


def envelope(scenario: Scenario, op: str, before: Any, after: Any) -> bytes:
    scenario.lsn += 8
    source = {
        "connector": "postgresql",
        "schema": "public",
        "table": "items",
        "lsn": scenario.lsn,
        "sequence": json.dumps([str(scenario.last_commit), str(scenario.lsn)]),
    }
    return json.dumps(
        {"before": before, "after": after, "source": source, "op": op, "ts_ms": 1}
    ).encode()


def commit(scenario: Scenario) -> None:
    scenario.lsn += 8
    scenario.last_commit = scenario.lsn


def change(scenario: Scenario, rng: random.Random, ident: int, tag: str) -> None:
    part = partition_of(ident)
    row = scenario.table.get(ident)
    if row is not None and rng.random() < 0.15:
        value = envelope(scenario, "d", row, None)
        scenario.records += [(part, key(ident), value), (part, key(ident), None)]
        del scenario.table[ident]
        return
    new = {"ID": ident, "NAME": f"{tag} {ident} {rng.randrange(10**6)}", "QTY": rng.randrange(100)}
    value = envelope(scenario, "u" if row else "c", row, new)
    scenario.records.append((part, key(ident), value))
    scenario.table[ident] = new


def truncate(scenario: Scenario) -> None:
    value = envelope(scenario, "t", None, None)
    scenario.records.append((TRUNCATE_PARTITION, None, value))
    scenario.table.clear()
    scenario.truncates += 1


def build(seed: int) -> Scenario:
    """Crowded partitions before the truncate, then changes of old and new keys after it."""
    rng = random.Random(seed)
    scenario = Scenario()

    def some_key(low: int, high: int, crowd: bool) -> int:
        ident = rng.randrange(low, high)
        if crowd and rng.random() < 0.7:  # 70% on the two crowded partitions
            wanted = CROWDED if rng.random() < 0.6 else TRUNCATE_PARTITION
            ident += (wanted - partition_of(ident)) % PARTITIONS
        return ident

    for _ in range(1500):  # transactions of 1 to 3 changes
        for _ in range(rng.randrange(1, 4)):
            change(scenario, rng, some_key(0, 600, crowd=True), "old")
        commit(scenario)
    truncate(scenario)
    commit(scenario)
    for _ in range(250):
        for _ in range(rng.randrange(1, 4)):
            change(scenario, rng, some_key(300, 900, crowd=False), "new")
        commit(scenario)
    return scenario


def produce(
    bootstrap: str, topic: str, records: list[tuple[int, bytes | None, bytes | None]]
) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5}
    )
    for part, k, v in records:
        producer.produce(topic, key=k, value=v, partition=part)
        producer.poll(0)
    assert producer.flush(30) == 0


class Setup:
    def __init__(self, config: Path, tmp_path: Path) -> None:
        self.config = config
        self.settings: Settings = load_settings(config)
        self.tmp_path = tmp_path
        table = self.settings.tables[0]
        self.topic = self.settings.topic_of(table)
        self.index = table.index_uid
        ensure_topics(self.settings.kafka, [self.topic])
        self._runs = 0

    def consumer(self, *args: str) -> ConsumerProcess:
        self._runs += 1
        return ConsumerProcess(self.config, self.tmp_path / f"consumer-{self._runs}.log", *args)

    def cleanup(self, meili: meilisearch.Client) -> None:
        with contextlib.suppress(Exception):
            meili.delete_index(self.index)
        topics = [self.topic, self.settings.kafka.dead_letter_topic]
        for future in admin_client(self.settings.kafka).delete_topics(topics).values():
            with contextlib.suppress(Exception):
                future.result(30)


@pytest.fixture
def make_setup(
    make_config: Callable[..., Path], sqlite_url: str, tmp_path: Path, meili: meilisearch.Client
) -> Iterator[Callable[..., Setup]]:
    made: list[Setup] = []

    def make(**consumer: Any) -> Setup:
        table = {
            "name": "ITEMS",
            "schema": "PUBLIC",
            "primary_key": ["ID"],
            "index": unique("items"),
            "capture": "debezium",
        }
        config = make_config(
            sqlite_url,
            tables=[table],
            kafka={
                "partitions": PARTITIONS,
                "extra": {"session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"},
            },
            consumer={
                "batch_size": 40,
                "linger_ms": 5,
                "max_tasks_in_flight": 4,
                "shutdown_timeout_s": 10,
                **consumer,
            },
        )
        made.append(Setup(config, tmp_path))
        return made[-1]

    yield make
    for setup in made:
        setup.cleanup(meili)


def documents(meili: meilisearch.Client, uid: str) -> dict[str, dict[str, Any]]:
    return {
        k: {f: v for f, v in d.items() if f in ("id", "name", "qty")}
        for k, d in index_documents(meili, uid).items()
    }


def wanted(scenario: Scenario) -> dict[str, dict[str, Any]]:
    return {
        str(i): {"id": str(i), "name": row["NAME"], "qty": row["QTY"]}
        for i, row in scenario.table.items()
    }


def assert_index_equals_table(meili: meilisearch.Client, setup: Setup, scenario: Scenario) -> None:
    found, expected = documents(meili, setup.index), wanted(scenario)
    missing = sorted(set(expected) - set(found), key=int)
    extra = sorted(set(found) - set(expected), key=int)
    assert not missing and not extra, (
        f"missing {len(missing)} {missing[:8]}, extra {len(extra)} {extra[:8]}"
    )
    assert found == expected


def test_truncate_at_6_partitions_leaves_the_index_equal_to_the_table(
    make_setup: Callable[..., Setup], meili: meilisearch.Client
) -> None:
    """Invariant: after a truncate and new rows, the index equals the table, whatever the
    partition the truncate and the other events land on."""
    setup = make_setup()
    scenario = build(seed=1)
    produce(setup.settings.kafka.bootstrap_servers, setup.topic, scenario.records)
    with setup.consumer("--until-caught-up") as run:
        assert run.wait(240) == 0, run.tail()
        log = run.log.read_text()
    assert "announced" in log and "aligning" in log
    assert_index_equals_table(meili, setup, scenario)


def test_two_consumers_and_a_kill_during_the_barrier_lose_nothing(
    make_setup: Callable[..., Setup], meili: meilisearch.Client
) -> None:
    """Invariant: with the partitions split over two consumer processes, and one of them
    killed (kill -9) while the truncate is being aligned, the index still ends equal to the
    table once the group caught up: offsets are committed only after what they cover is
    applied, and alignments are durable."""
    setup = make_setup()
    scenario = build(seed=2)
    produce(setup.settings.kafka.bootstrap_servers, setup.topic, scenario.records)
    with setup.consumer() as first, setup.consumer() as second:
        wait_for(
            lambda: "announced" in first.log.read_text() + second.log.read_text(),
            120,
            "the truncate to be announced",
            every=0.05,
        )
        first.kill()
        wait_for(
            lambda: documents_settled(meili, setup.index),
            60,
            "the index to settle",
        )
        second.terminate()
        assert second.wait(60) == 0, second.tail()
    with setup.consumer("--until-caught-up") as last:
        assert last.wait(240) == 0, last.tail()
    assert_index_equals_table(meili, setup, scenario)


def documents_settled(meili: meilisearch.Client, uid: str) -> bool:
    try:
        index_documents(meili, uid)
    except Exception:
        return False
    return True
