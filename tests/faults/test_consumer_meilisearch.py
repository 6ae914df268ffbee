"""The consumer through a faulty Meilisearch: HTTP 503 and 429, connections reset before and
after the server acted, answers held past the client's timeout, Meilisearch gone, stalled
and slow — drawn from a seed, while event bursts keep coming."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import meilisearch
import pytest

from cdc_sync.config import load_settings
from cdc_sync.kafka.admin import ensure_topics
from tests.conftest import unique
from tests.faults.checks import CommitWatch
from tests.faults.ledger import Ledger
from tests.faults.plans import HTTP_FAULTS, TOO_MANY, plan, stream_through
from tests.faults.proxy import HttpProxy, Rule
from tests.integration.consumer_support import (
    ConsumerProcess,
    Stream,
    assert_final_state,
    committed_to_end,
    make_events,
    produce,
    tables,
)

EVENTS = 3000


@pytest.mark.parametrize("seed", [1, 2, 3], ids=lambda seed: f"seed={seed}")
def test_consumer_through_a_faulty_meilisearch(
    seed: int,
    make_config: Callable[..., Path],
    sqlite_url: str,
    meili: meilisearch.Client,
    meili_proxy: HttpProxy,
    tmp_path: Path,
) -> None:
    """Invariants: no committed offset is ever ahead of what Meilisearch applied (sampled
    against the indexes all along), and once the faults end the index equals the source
    (the stream's final state)."""
    meili_proxy.seed(seed)
    indexes = {"ITEMS": unique("items"), "LINES": unique("lines")}
    config = make_config(
        sqlite_url,
        tables=tables(indexes["ITEMS"], indexes["LINES"]),
        kafka={"partitions": 3},
        meilisearch={"url": f"http://{meili_proxy.address}", "timeout_s": 2},
        consumer={"batch_size": 200, "linger_ms": 20, "retry_max_s": 1, "shutdown_timeout_s": 10},
    )
    kafka = load_settings(config).kafka
    topics = [f"{kafka.topic_prefix}.{table}" for table in indexes]
    ensure_topics(kafka, topics)
    episodes = plan(seed, 8, HTTP_FAULTS)
    events = make_events(EVENTS, seed=seed)
    stream, ledger = Stream(), Ledger()
    watch = CommitWatch(ledger, meili, kafka.bootstrap_servers, kafka.group_id, indexes)

    caught_up = committed_to_end(kafka.bootstrap_servers, kafka.group_id, topics)

    with ConsumerProcess(config, tmp_path / "consumer.log") as run:
        watch.start()
        stream_through(
            meili_proxy,
            episodes,
            events,
            kafka.bootstrap_servers,
            kafka.topic_prefix,
            caught_up,
            stream,
            ledger,
        )
        watch.stop()
        run.terminate()
        assert run.wait(30) == 0, run.tail()
    assert not watch.violations, watch.violations[:5]
    assert watch.samples >= 5
    assert_final_state(meili, stream, indexes)
    hit = {e.action for e in meili_proxy.exchanges} - {"forward"}
    assert hit, "no request met a fault"
    assert "retrying" in run.log.read_text()


def test_consumer_starts_while_meilisearch_refuses_then_answers(
    make_config: Callable[..., Path],
    sqlite_url: str,
    meili: meilisearch.Client,
    meili_proxy: HttpProxy,
    tmp_path: Path,
) -> None:
    """Invariant: the index equals the source after recovery — a Meilisearch that answers 503,
    429 and resets connections while the consumer starts (index creation, settings) delays
    the start; it does not end it."""
    indexes = {"ITEMS": unique("items"), "LINES": unique("lines")}
    config = make_config(
        sqlite_url,
        tables=tables(indexes["ITEMS"], indexes["LINES"]),
        meilisearch={"url": f"http://{meili_proxy.address}"},
        consumer={"retry_max_s": 5},
    )
    kafka = load_settings(config).kafka
    ensure_topics(kafka, [f"{kafka.topic_prefix}.{table}" for table in indexes])
    stream = produce(kafka.bootstrap_servers, kafka.topic_prefix, make_events(200, seed=9))
    meili_proxy.add(Rule("answer", status=503, times=3))
    meili_proxy.add(Rule("answer", status=429, body=TOO_MANY, times=2))
    meili_proxy.add(Rule("reset_before", times=2))
    with ConsumerProcess(config, tmp_path / "consumer.log", "--until-caught-up") as run:
        assert run.wait(120) == 0, run.tail()
    assert_final_state(meili, stream, indexes)
    assert sum(rule.used for rule in meili_proxy.rules) == 7


def test_consumer_exits_3_when_meilisearch_stays_away_at_start(
    make_config: Callable[..., Path], sqlite_url: str, meili_proxy: HttpProxy, tmp_path: Path
) -> None:
    """Invariant: the run fails with a clear error — Meilisearch unreachable for longer than
    the start-up budget (4 times consumer.retry_max_s) ends the consumer with exit code 3 and
    one line naming it, not a traceback."""
    config = make_config(
        sqlite_url,
        tables=tables(unique("items"), unique("lines")),
        meilisearch={"url": f"http://{meili_proxy.address}"},
        consumer={"retry_max_s": 0.5},
    )
    meili_proxy.refuse()
    with ConsumerProcess(config, tmp_path / "consumer.log") as run:
        assert run.wait(60) == 3, run.tail()
    assert "Traceback" not in run.log.read_text()
    assert "meilisearch unreachable" in run.tail()
