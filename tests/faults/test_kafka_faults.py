"""Kafka failing under the running services: the broker restarted (dev/stack), and the
connection to it reset, cut, stalled past the group's session timeout, or slow."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from confluent_kafka import Consumer

from cdc_sync.config import load_settings
from cdc_sync.kafka.admin import ensure_topics
from tests.conftest import unique
from tests.faults.checks import CommitWatch
from tests.faults.ledger import Ledger
from tests.faults.plans import TCP_FAULTS, Episode, plan, stream_through
from tests.faults.proxy import TcpProxy
from tests.faults.support import (
    Application,
    execute,
    make_table,
    restart,
    wait_index_equals_source,
)
from tests.integration.cli_support import run_cli, start_cli
from tests.integration.consumer_support import (
    ConsumerProcess,
    Stream,
    assert_final_state,
    committed_to_end,
    end_offsets,
    group_offsets,
    make_events,
    produce,
    wait_for,
)

GROUP = {"session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"}
EVENTS = 2400


def produced_tables(indexes: dict[str, str]) -> list[dict[str, Any]]:
    """ITEMS and LINES come straight from the test (no relay): capture 'debezium'."""
    return [
        {
            "name": "ITEMS",
            "primary_key": ["ITEM_NO"],
            "index": indexes["ITEMS"],
            "capture": "debezium",
        },
        {
            "name": "LINES",
            "primary_key": ["ORDER_ID", "LINE_NO"],
            "index": indexes["LINES"],
            "capture": "debezium",
        },
    ]


@pytest.mark.parametrize("seed", [1, 2], ids=lambda seed: f"seed={seed}")
def test_relay_and_consumer_through_a_broker_restart(
    seed: int,
    make_config: Callable[..., Path],
    pg_url: str,
    meili: meilisearch.Client,
    tmp_path: Path,
) -> None:
    """Invariants: no committed offset is ever ahead of what Meilisearch applied (sampled all
    along), and after the restart the indexes equal their sources — the relay's table (the
    application keeps writing) and the test's own event streams."""
    name = unique("items")
    make_table(pg_url, name, 0)
    indexes = {"ITEMS": unique("items"), "LINES": unique("lines"), name.upper(): unique("rows")}
    config = make_config(
        pg_url,
        tables=[
            *produced_tables(indexes),
            {"name": name.upper(), "primary_key": ["ID"], "index": indexes[name.upper()]},
        ],
        kafka={"partitions": 3, "extra": GROUP},
        consumer={"retry_max_s": 1},
    )
    kafka = load_settings(config).kafka
    topics = [f"{kafka.topic_prefix}.{table}" for table in ("ITEMS", "LINES")]
    ensure_topics(kafka, topics)
    assert run_cli(config, "source", "install").returncode == 0
    execute(pg_url, f"INSERT INTO {name} SELECT i, 'row ' || i, 0 FROM generate_series(1, 300) i")
    events = make_events(EVENTS, seed=seed)
    stream, ledger = Stream(), Ledger()
    watched = {t: indexes[t] for t in ("ITEMS", "LINES")}
    watch = CommitWatch(ledger, meili, kafka.bootstrap_servers, kafka.group_id, watched)
    rng = random.Random(seed)
    relay = start_cli(config, "relay", log=tmp_path / "relay.log")
    application = Application(pg_url, name, seed, first_id=301)
    with ConsumerProcess(config, tmp_path / "consumer.log") as consumer:
        try:
            watch.start()
            application.start()
            half = EVENTS // 2
            produce(kafka.bootstrap_servers, kafka.topic_prefix, events[:half], stream)
            ledger.add(stream, events[:half], kafka.topic_prefix)
            time.sleep(rng.uniform(0.5, 3.0))
            restart("kafka")
            produce(kafka.bootstrap_servers, kafka.topic_prefix, events[half:], stream)
            ledger.add(stream, events[half:], kafka.topic_prefix)
            time.sleep(rng.uniform(0.5, 2.0))
            application.halt.set()
            application.join(30)
            wait_index_equals_source(meili, indexes[name.upper()], pg_url, name, timeout_s=120)
            ends = end_offsets(kafka.bootstrap_servers, topics)
            wait_for(
                lambda: group_offsets(kafka.bootstrap_servers, kafka.group_id, topics) == ends,
                120,
                "the consumer to commit everything",
            )
            watch.stop()
            for service, log in ((relay, "relay.log"), (consumer.proc, "consumer.log")):
                assert service.poll() is None, (tmp_path / log).read_text()[-3000:]
                service.terminate()
                assert service.wait(30) == 0, (tmp_path / log).read_text()[-3000:]
        finally:
            application.halt.set()
            if relay.poll() is None:
                relay.kill()
    assert not watch.violations, watch.violations[:5]
    assert_final_state(meili, stream, watched)


@pytest.mark.parametrize(
    ("seed", "long_stall"), [(1, False), (2, True)], ids=["seed=1", "seed=2-stall-past-session"]
)
def test_consumer_through_a_faulty_kafka_connection(
    seed: int,
    long_stall: bool,
    make_config: Callable[..., Path],
    sqlite_url: str,
    meili: meilisearch.Client,
    kafka_proxy: TcpProxy,
    kafka_listeners: dict[str, str],
    kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    """Invariants: no committed offset is ever ahead of what Meilisearch applied, and once
    the faults end the index equals the stream's final state — the consumer's connections
    to the broker reset, cut, stalled (for seed 2 once past the group's session timeout, so
    the group drops the member and takes its partitions) and slowed."""
    indexes = {"ITEMS": unique("items"), "LINES": unique("lines")}
    config = make_config(
        sqlite_url,
        tables=produced_tables(indexes),
        kafka={
            "bootstrap_servers": kafka_listeners["KAFKA_PROXIED_BOOTSTRAP_SERVERS"],
            "partitions": 3,
            "extra": GROUP,
        },
        consumer={"retry_max_s": 1, "batch_size": 200},
    )
    kafka = load_settings(config).kafka
    direct = kafka_bootstrap  # the test itself does not go through the proxy
    topics = [f"{kafka.topic_prefix}.{table}" for table in indexes]
    ensure_topics(kafka.model_copy(update={"bootstrap_servers": direct}), topics)
    episodes = plan(seed, 5, TCP_FAULTS)
    if long_stall:
        episodes.insert(2, Episode("stall", 9.0, 1.0, 0.0, 1.0))
    events = make_events(EVENTS, seed=seed)
    stream, ledger = Stream(), Ledger()
    watch = CommitWatch(ledger, meili, direct, kafka.group_id, indexes)

    caught_up = committed_to_end(direct, kafka.group_id, topics)

    with ConsumerProcess(config, tmp_path / "consumer.log") as consumer:
        watch.start()
        stream_through(
            kafka_proxy, episodes, events, direct, kafka.topic_prefix, caught_up, stream, ledger
        )
        watch.stop()
        consumer.terminate()
        assert consumer.wait(30) == 0, consumer.tail()
    assert not watch.violations, watch.violations[:5]
    assert watch.samples >= 5
    assert_final_state(meili, stream, indexes)
    if long_stall:
        assert "revoked" in consumer.log.read_text() or "lost" in consumer.log.read_text()


def test_a_consumer_fenced_off_its_static_membership_rejoins(
    make_config: Callable[..., Path],
    sqlite_url: str,
    meili: meilisearch.Client,
    tmp_path: Path,
) -> None:
    """Invariants: no committed offset is ever ahead of what Meilisearch applied, and the index
    equals the stream's final state — a static member fenced off its group.instance.id (what a
    lost join answer does after a coordinator restart; here another client takes the id for a
    moment) rejoins instead of staying connected without consuming anything."""
    indexes = {"ITEMS": unique("items"), "LINES": unique("lines")}
    instance = unique("member")
    config = make_config(
        sqlite_url,
        tables=produced_tables(indexes),
        kafka={"partitions": 3, "extra": GROUP, "group_instance_id": instance},
        consumer={"retry_max_s": 1},
    )
    kafka = load_settings(config).kafka
    topics = [f"{kafka.topic_prefix}.{table}" for table in indexes]
    ensure_topics(kafka, topics)
    events = make_events(EVENTS, seed=5)
    stream, ledger = Stream(), Ledger()
    watch = CommitWatch(ledger, meili, kafka.bootstrap_servers, kafka.group_id, indexes)

    caught_up = committed_to_end(kafka.bootstrap_servers, kafka.group_id, topics)

    with ConsumerProcess(config, tmp_path / "consumer.log") as consumer:
        watch.start()
        for burst in (events[: EVENTS // 2], events[EVENTS // 2 :]):
            produce(kafka.bootstrap_servers, kafka.topic_prefix, burst, stream)
            ledger.add(stream, burst, kafka.topic_prefix)
            wait_for(caught_up, 90, "the consumer to apply the burst")
            if not consumer.log.read_text().count("fenced"):
                take_over(kafka.bootstrap_servers, kafka.group_id, instance, topics)
                wait_for(lambda: "fenced" in consumer.log.read_text(), 30, "the fence")
        watch.stop()
        consumer.terminate()
        assert consumer.wait(30) == 0, consumer.tail()
    assert not watch.violations, watch.violations[:5]
    assert_final_state(meili, stream, indexes)


def take_over(bootstrap: str, group: str, instance: str, topics: list[str]) -> None:
    """Join `group` as static member `instance` until it holds partitions, then go away."""
    rogue = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "group.instance.id": instance,
            "session.timeout.ms": 6000,
            "enable.auto.commit": False,
        }
    )
    rogue.subscribe(topics)
    deadline = time.monotonic() + 30
    while not rogue.assignment() and time.monotonic() < deadline:
        rogue.consume(1, 0.2)
    assert rogue.assignment(), "the other client never got the member's partitions"
    rogue.close()
