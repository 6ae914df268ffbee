"""The consumer service end to end on the real stack: Kafka → cdc-sync consume → Meilisearch."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from confluent_kafka import Consumer

from cdc_sync.config import Settings, load_settings
from cdc_sync.kafka.admin import admin_client, ensure_topics
from tests.conftest import unique
from tests.integration.consumer_support import (
    ConsumerProcess,
    PrivateMeilisearch,
    assert_final_state,
    end_offsets,
    expected_document,
    group_offsets,
    index_documents,
    make_events,
    produce,
    produce_raw,
    tables,
    wait_for,
)

pytestmark = pytest.mark.stack

FAST = {"batch_size": 500, "linger_ms": 20, "shutdown_timeout_s": 10}
GROUP_TIMEOUTS = {"session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"}


class Setup:
    def __init__(self, config: Path, tmp_path: Path) -> None:
        self.config = config
        self.settings: Settings = load_settings(config)
        self.tmp_path = tmp_path
        self.prefix = self.settings.kafka.topic_prefix
        self.topics = [self.settings.topic_of(t) for t in self.settings.tables]
        self.indexes = {t.name: t.index_uid for t in self.settings.tables}
        self.bootstrap = self.settings.kafka.bootstrap_servers
        self.group = self.settings.kafka.group_id
        ensure_topics(self.settings.kafka, self.topics)
        self._runs = 0

    def consumer(self, *args: str) -> ConsumerProcess:
        self._runs += 1
        return ConsumerProcess(self.config, self.tmp_path / f"consumer-{self._runs}.log", *args)

    def committed(self) -> dict[tuple[str, int], int]:
        return group_offsets(self.bootstrap, self.group, self.topics)

    def ends(self) -> dict[tuple[str, int], int]:
        return end_offsets(self.bootstrap, self.topics)

    def caught_up(self) -> bool:
        committed, ends = self.committed(), self.ends()
        return all(committed[tp] >= end for tp, end in ends.items() if end > 0)

    def cleanup(self, meili: meilisearch.Client) -> None:
        for uid in self.indexes.values():
            with contextlib.suppress(Exception):
                meili.delete_index(uid)
        topics = [*self.topics, self.settings.kafka.dead_letter_topic]
        for future in admin_client(self.settings.kafka).delete_topics(topics).values():
            with contextlib.suppress(Exception):
                future.result(30)


@pytest.fixture
def make_setup(
    make_config: Callable[..., Path], sqlite_url: str, tmp_path: Path, meili: meilisearch.Client
) -> Iterator[Callable[..., Setup]]:
    made: list[Setup] = []

    def make(consumer: dict[str, Any] | None = None, **sections: Any) -> Setup:
        kafka = {"partitions": 6, "extra": GROUP_TIMEOUTS, **sections.pop("kafka", {})}
        config = make_config(
            sqlite_url,
            tables=sections.pop("tables", None) or tables(unique("items"), unique("lines")),
            kafka=kafka,
            consumer={**FAST, **(consumer or {})},
            **sections,
        )
        made.append(Setup(config, tmp_path))
        return made[-1]

    yield make
    for setup in made:
        setup.cleanup(meili)


def describe_lags(kafka_bin: Path, bootstrap: str, group: str) -> dict[tuple[str, int], str]:
    done = subprocess.run(
        [
            str(kafka_bin / "kafka-consumer-groups"),
            "--bootstrap-server",
            bootstrap,
            "--describe",
            "--group",
            group,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [line.split() for line in done.stdout.splitlines() if line.strip()]
    header = next(i for i, cols in enumerate(lines) if "LAG" in cols and "PARTITION" in cols)
    cols = lines[header]
    rows = [
        dict(zip(cols, r, strict=False)) for r in lines[header + 1 :] if len(r) >= len(cols) - 3
    ]
    return {(r["TOPIC"], int(r["PARTITION"])): r["LAG"] for r in rows}


def test_10k_events_give_the_exact_final_state_and_zero_lag(
    make_setup: Callable[..., Setup], meili: meilisearch.Client, kafka_bin: Path
) -> None:
    setup = make_setup()
    stream = produce(setup.bootstrap, setup.prefix, make_events(8700))
    assert len(stream.records) >= 10_000
    assert {p for p, _ in stream.placed} == set(range(6))
    with setup.consumer("--until-caught-up") as run:
        assert run.wait(180) == 0, run.tail()
    assert_final_state(meili, stream, setup.indexes)

    # Kafka's own tool agrees: lag 0 everywhere for the group.
    lags = describe_lags(kafka_bin, setup.bootstrap, setup.group)
    assert set(lags) == set(setup.ends())
    assert set(lags.values()) == {"0"}
    lag = subprocess.run(
        [".venv/bin/python", "-m", "cdc_sync", "--config", str(setup.config), "lag", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(lag.stdout)["total_lag"] == 0


def test_kill_9_never_commits_past_meilisearch_and_resumes(
    make_setup: Callable[..., Setup], meili: meilisearch.Client
) -> None:
    setup = make_setup(consumer={"batch_size": 40, "max_tasks_in_flight": 2, "linger_ms": 5})
    stream = produce(setup.bootstrap, setup.prefix, make_events(6000, seed=11))
    total = len(stream.records)
    with setup.consumer() as run:
        wait_for(
            lambda: sum(max(o, 0) for o in setup.committed().values()) > total // 5, 120, "progress"
        )
        run.kill()
    committed = setup.committed()
    assert sum(max(o, 0) for o in committed.values()) < total, (
        "the kill came too late to prove anything"
    )

    # Every key whose events all lie below the committed offset must be in Meilisearch as committed.
    last_below: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {}
    touched_above: set[tuple[str, str]] = set()
    events = make_events(6000, seed=11)
    record_event = [e for e in events for _ in range(2 if e.op == "d" else 1)]
    for (topic, _, _), (partition, offset), event in zip(
        stream.records, stream.placed, record_event, strict=True
    ):
        doc_id, doc = expected_document(event)
        ident = (str(event.table), doc_id)
        if offset < committed[(topic, partition)]:
            last_below[ident] = (doc_id, doc)
        else:
            touched_above.add(ident)
    checked = 0
    for table, uid in setup.indexes.items():
        found = index_documents(meili, uid)
        for (t, doc_id), (_, doc) in last_below.items():
            if t != table or (t, doc_id) in touched_above:
                continue
            assert found.get(doc_id) == doc, f"{table}/{doc_id}: committed but not in Meilisearch"
            checked += 1
    assert checked > 100

    with setup.consumer("--until-caught-up") as again:
        assert again.wait(180) == 0, again.tail()
    assert_final_state(meili, stream, setup.indexes)


def test_meilisearch_down_for_10s_is_retried_to_the_exact_state(
    make_setup: Callable[..., Setup], tmp_path: Path
) -> None:
    private = PrivateMeilisearch(tmp_path / "meili")
    (tmp_path / "meili").mkdir()
    private.start()
    try:
        setup = make_setup(
            meilisearch={"url": private.url, "api_key": private.KEY, "timeout_s": 5},
            consumer={"retry_max_s": 2},
        )
        events = make_events(4000, seed=5)
        stream = produce(setup.bootstrap, setup.prefix, events[:2000])
        with setup.consumer() as run:
            wait_for(setup.caught_up, 120, "the first half to be applied")
            private.stop()
            produce(setup.bootstrap, setup.prefix, events[2000:], stream)
            time.sleep(10)
            private.start()
            wait_for(setup.caught_up, 120, "the second half to be applied")
            run.terminate()
            assert run.wait(30) == 0, run.tail()
        assert_final_state(private.client(), stream, setup.indexes)
        retries = [line["msg"] for line in run.lines() if "retrying" in line.get("msg", "")]
        assert retries, run.tail()
        assert any("unreachable" in message for message in retries)
    finally:
        private.stop()


def test_poison_records_go_to_the_dead_letter_topic_with_reasons(
    make_setup: Callable[..., Setup], meili: meilisearch.Client
) -> None:
    items, lines = unique("items"), unique("lines")
    typed = [
        {
            "name": "ITEMS",
            "primary_key": ["ITEM_NO"],
            "index": items,
            "fields": {
                "ITEM_NO": "item_no",
                "NAME": "name",
                "QTY": {"name": "qty", "type": "integer"},
                "EXTRA": "extra",
                "GEO": "_geo",
            },
            "settings": {"filterable": ["_geo"]},
        },
        {"name": "LINES", "primary_key": ["ORDER_ID", "LINE_NO"], "index": lines},
    ]
    setup = make_setup(tables=typed, consumer={"batch_size": 200})
    good = make_events(3000, seed=3)
    stream = produce(setup.bootstrap, setup.prefix, good)
    topic = f"{setup.prefix}.ITEMS"
    oversized = {
        "ITEM_NO": "big",
        "NAME": "too many fields",
        "QTY": 1,
        "EXTRA": {f"a{i}": 0 for i in range(66_000)},
    }

    def relay(after: dict[str, Any]) -> bytes:
        return json.dumps(
            {
                "before": None,
                "after": after,
                "source": {"connector": "cdc-sync", "table": "ITEMS"},
                "op": "c",
                "ts_ms": 1,
            }
        ).encode()

    poison: list[tuple[str, bytes | None, bytes | None]] = []
    for i in range(30):
        kind = i % 10
        if kind < 3:
            poison.append((topic, b'{"ITEM_NO":"p%d"}' % i, b"{not json"))
        elif kind < 6:
            poison.append(
                (topic, b'{"ITEM_NO":null}', relay({"ITEM_NO": None, "NAME": "no id", "QTY": 1}))
            )
        elif kind < 9:
            poison.append(
                (
                    topic,
                    b'{"ITEM_NO":"w%d"}' % i,
                    relay({"ITEM_NO": f"w{i}", "NAME": "x", "QTY": "many"}),
                )
            )
        elif i < 15:
            poison.append(
                (topic, b'{"ITEM_NO":"big%d"}' % i, relay({**oversized, "ITEM_NO": f"big{i}"}))
            )
        else:  # only Meilisearch knows: its task fails and the batch is split to isolate it
            bad_geo = {"ITEM_NO": f"g{i}", "NAME": "x", "QTY": 1, "GEO": "nowhere"}
            poison.append((topic, b'{"ITEM_NO":"g%d"}' % i, relay(bad_geo)))
    placed = produce_raw(setup.bootstrap, poison)
    more = produce(setup.bootstrap, setup.prefix, make_events(1000, seed=4), stream)
    assert more is stream

    with setup.consumer("--until-caught-up") as run:
        assert run.wait(240) == 0, run.tail()
    assert_final_state(meili, stream, setup.indexes)

    letters = read_topic(
        setup.bootstrap, setup.settings.kafka.dead_letter_topic, expect=len(poison)
    )
    by_origin = {
        (int(h["cdc.original.partition"]), int(h["cdc.original.offset"])): (k, v, h)
        for k, v, h in letters
    }
    assert len(letters) == len(poison) == len(by_origin)
    for (topic_, key, value), origin in zip(poison, placed, strict=True):
        k, v, headers = by_origin[origin]
        assert (k, v) == (key, value)
        assert headers["cdc.original.topic"] == topic_
        assert headers["cdc.error.code"] and headers["cdc.error.reason"]
        assert headers["cdc.original.timestamp"].isdigit()
    codes = {h["cdc.error.code"] for _, _, h in letters}
    assert {"decode_error", "invalid_key", "mapping_error", "max_fields_limit_exceeded"} < codes
    assert any("geo" in code for code in codes), codes


def read_topic(
    bootstrap: str, topic: str, expect: int, timeout_s: float = 30
) -> list[tuple[bytes | None, bytes | None, dict[str, str]]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": unique("reader"),
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    found = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                if len(found) >= expect and time.monotonic() > deadline - timeout_s + 5:
                    break
                continue
            if msg.error():
                continue
            headers = {k: (v or b"").decode() for k, v in msg.headers() or []}
            found.append((msg.key(), msg.value(), headers))
    finally:
        consumer.close()
    return found


def test_two_consumers_split_partitions_and_one_takes_over(
    make_setup: Callable[..., Setup], meili: meilisearch.Client
) -> None:
    setup = make_setup()
    events = make_events(9000, seed=9)
    stream = produce(setup.bootstrap, setup.prefix, events[:6000])
    with setup.consumer() as first, setup.consumer() as second:
        # the second member's join rebalances the group: both end up owning partitions
        wait_for(lambda: all(assigned(c) for c in (first, second)), 60, "a split assignment")
        wait_for(setup.caught_up, 120, "both consumers to apply everything")
        assert_final_state(meili, stream, setup.indexes)
        shares = [assigned(c) for c in (first, second)]
        assert all(shares), "each consumer should own some partitions"
        assert not (shares[0] & shares[1])
        first.kill()
        produce(setup.bootstrap, setup.prefix, events[6000:], stream)
        everything = set(setup.ends())
        wait_for(lambda: assigned(second) == everything, 60, "the survivor to own every partition")
        wait_for(setup.caught_up, 120, "the survivor to take over")
        assert_final_state(meili, stream, setup.indexes)
        assert assigned(second) == set(setup.ends()), "the survivor owns every partition"
        second.terminate()
        assert second.wait(30) == 0


def assigned(run: ConsumerProcess) -> set[tuple[str, int]]:
    """Partitions of the last assignment a consumer logged."""
    last: set[tuple[str, int]] = set()
    for line in run.lines():
        msg = line.get("msg", "")
        if msg.startswith("assigned "):
            last = {(t, int(p)) for t, p in re.findall(r"([\w.-]+)\[(\d+)\]", msg)}
    return last


def test_sigterm_during_a_burst_exits_in_time_and_reapplies_nothing_committed(
    make_setup: Callable[..., Setup], meili: meilisearch.Client
) -> None:
    setup = make_setup(
        consumer={
            "batch_size": 50,
            "max_tasks_in_flight": 2,
            "linger_ms": 5,
            "shutdown_timeout_s": 5,
        }
    )
    stream = produce(setup.bootstrap, setup.prefix, make_events(8000, seed=13))
    total = len(stream.records)
    with setup.consumer() as run:
        wait_for(
            lambda: sum(max(o, 0) for o in setup.committed().values()) > total // 5,
            120,
            "a burst in progress",
        )
        started = time.monotonic()
        run.terminate()
        assert run.wait(30) == 0, run.tail()
        took = time.monotonic() - started
    assert took < 5 + 5, f"took {took:.1f}s to stop (shutdown_timeout_s = 5)"
    committed = setup.committed()
    ends = setup.ends()
    assert sum(committed.values()) < sum(ends.values()), "the burst ended before SIGTERM"

    with setup.consumer("--until-caught-up") as again:
        assert again.wait(180) == 0, again.tail()
    first = next(
        line["stats"]["first_offsets"]
        for line in again.lines()
        if line.get("msg") == "consumer stopped"
    )
    for (topic, partition), offset in committed.items():
        if ends[(topic, partition)] > max(offset, 0):
            assert first[f"{topic}[{partition}]"] == max(offset, 0), (
                "resumed elsewhere than the committed offset"
            )
    assert_final_state(meili, stream, setup.indexes)
