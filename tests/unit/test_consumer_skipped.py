"""Records that change no row are skipped and counted, with a warning naming the topic: once
when a topic first carries them, then at most once a minute (never one line per record)."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from cdc_sync.consumer.skipped import WARN_EVERY_S, SkippedRecords
from cdc_sync.consumer.stats import ConsumerStats

LOGGER = "cdc_sync.consumer.skipped"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _skipped(table: str, kind: str) -> float:
    return (
        REGISTRY.get_sample_value("cdc_sync_events_skipped_total", {"table": table, "kind": kind})
        or 0.0
    )


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING
    ]


def test_counted_per_record_warned_once_per_topic_and_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, stats = Clock(), ConsumerStats()
    skipped = SkippedRecords(stats, clock)
    before = _skipped("APP.ORDERS", "heartbeat")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for _ in range(500):
            skipped.skip("__debezium-heartbeat.server1", "APP.ORDERS", "heartbeat")
        clock.now += WARN_EVERY_S
        skipped.skip("__debezium-heartbeat.server1", "APP.ORDERS", "heartbeat")
    assert stats.skipped == 501
    assert _skipped("APP.ORDERS", "heartbeat") == before + 501
    first, second = _warnings(caplog)
    assert (
        "__debezium-heartbeat.server1" in first and "heartbeat" in first and "APP.ORDERS" in first
    )
    assert "501" in second  # the count so far


def test_each_topic_and_kind_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    skipped = SkippedRecords(ConsumerStats(), Clock())
    with caplog.at_level(logging.INFO, logger=LOGGER):
        skipped.skip("server1.transaction", "APP.T", "transaction metadata")
        skipped.skip("server1", "APP.U", "schema change")
        skipped.skip("server1.transaction", "APP.T", "transaction metadata")
    warned = _warnings(caplog)
    assert len(warned) == 2
    assert any("server1.transaction" in w and "transaction metadata" in w for w in warned)
    assert any("topic server1 " in w and "schema change" in w for w in warned)
