from __future__ import annotations

import logging

import pytest

from cdc_sync.bootstrap.progress import LogReporter, Meter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_and_eta() -> None:
    clock = Clock()
    meter = Meter(total=1000, clock=clock)
    assert meter.rate == 0 and meter.eta_s is None
    clock.now += 2
    meter.advance(200)
    assert meter.rate == 100
    assert meter.eta_s == 8


def test_eta_is_zero_when_done_or_past_the_total() -> None:
    clock = Clock()
    meter = Meter(total=10, clock=clock)
    clock.now += 1
    meter.advance(12)
    assert meter.eta_s == 0


def test_empty_table() -> None:
    meter = Meter(total=0, clock=Clock())
    assert meter.eta_s == 0


def test_log_reporter_throttles(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    meter = Meter(total=100, clock=clock)
    reporter = LogReporter("T", every_s=5)
    with caplog.at_level(logging.INFO, logger="cdc_sync.bootstrap"):
        for _ in range(10):
            clock.now += 1
            meter.advance(10)
            reporter.update(meter)
        reporter.close(meter)
    lines = [r for r in caplog.records if r.name == "cdc_sync.bootstrap"]
    assert len(lines) == 3  # t=101, t=106, and the final line
    assert lines[-1].fields == {"table": "T", "done": 100, "total": 100, "rate": 10.0, "eta_s": 0.0}  # type: ignore[attr-defined]
