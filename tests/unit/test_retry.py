"""The one retry policy (`cdc_sync/retry.py`).

The waits are tenacity's `wait_exponential_jitter`: max(0, min(multiplier * 2**(n-1) +
random.uniform(0, jitter), maximum)) after failed attempt n (its docstring and __call__,
tenacity/wait.py, tenacity 9.2).
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from cdc_sync.errors import TerminalError, TransientError
from cdc_sync.retry import Retry, RetryNote, Stopped, stoppable


def transient(exc: BaseException) -> bool:
    return isinstance(exc, TransientError)


class Flaky:
    """Fails with the given faults, one per call, then answers 42."""

    def __init__(self, *faults: Exception) -> None:
        self.faults = list(faults)
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        if self.faults:
            raise self.faults.pop(0)
        return 42


def policy(**options: object) -> tuple[Retry, list[float], list[RetryNote]]:
    waits: list[float] = []
    notes: list[RetryNote] = []
    retry = Retry(
        transient,
        sleep=waits.append,
        on_retry=notes.append,
        **options,  # type: ignore[arg-type]
    )
    return retry, waits, notes


def test_a_call_that_succeeds_waits_and_tells_nothing() -> None:
    retry, waits, notes = policy(first_s=0.2, max_s=5)
    assert retry.call("x", Flaky()) == 42
    assert waits == [] and notes == []


def test_transient_faults_are_retried_with_exponential_backoff_and_jitter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every retry, the first one too, waits its turn and is logged and reported."""
    retry, waits, notes = policy(first_s=0.2, max_s=1.0, jitter_s=0.1)
    fn = Flaky(*(TransientError(f"meilisearch HTTP 503 #{n}") for n in range(5)))
    with caplog.at_level(logging.WARNING, logger="cdc_sync.retry"):
        assert retry.call("enqueue to t", fn) == 42
    assert fn.calls == 6
    floors = [0.2, 0.4, 0.8, 1.0, 1.0]  # 0.2 * 2**(n-1), at most max_s
    assert all(f <= w <= min(f + 0.1, 1.0) for f, w in zip(floors, waits, strict=True)), waits
    assert [n.attempt for n in notes] == [1, 2, 3, 4, 5]
    assert [n.wait_s for n in notes] == waits
    assert notes[0].message == (
        f"enqueue to t failed (attempt 1), retrying in {waits[0]:.1f}s: meilisearch HTTP 503 #0"
    )
    assert [r.getMessage() for r in caplog.records] == [n.message for n in notes]


def test_a_fault_that_is_not_transient_is_raised_at_once() -> None:
    retry, waits, notes = policy(first_s=0.2, max_s=5)
    fn = Flaky(TransientError("down"), TerminalError("bad document"))
    with pytest.raises(TerminalError, match="bad document"):
        retry.call("x", fn)
    assert fn.calls == 2 and len(waits) == 1 and len(notes) == 1


def test_an_attempt_budget_raises_the_last_fault() -> None:
    """`attempts` counts every attempt, the first one too."""
    retry, waits, _ = policy(first_s=0.5, max_s=5, attempts=4)
    fn = Flaky(*(TransientError(f"down #{n}") for n in range(10)))
    with pytest.raises(TransientError, match="down #3"):
        retry.call("x", fn)
    assert fn.calls == 4 and len(waits) == 3


def test_a_time_budget_of_zero_means_one_attempt() -> None:
    """The consumer's state store calls: asked once, the loop decides what then."""
    retry, waits, _ = policy(first_s=0.1, max_s=2, budget_s=0.0)
    fn = Flaky(TransientError("down"))
    with pytest.raises(TransientError):
        retry.call("x", fn)
    assert fn.calls == 1 and waits == []


def test_a_time_budget_stops_the_retries() -> None:
    retry = Retry(transient, first_s=0.01, max_s=0.01, jitter_s=0.0, budget_s=0.05)
    fn = Flaky(*(TransientError("down") for _ in range(1000)))
    with pytest.raises(TransientError):
        retry.call("x", fn)
    assert 2 <= fn.calls <= 6  # waits of at least 0.01 s within 0.05 s


def test_without_a_budget_it_retries_until_it_succeeds() -> None:
    retry, waits, _ = policy(first_s=0.01, max_s=0.02, jitter_s=0.0)
    assert retry.call("x", Flaky(*(TransientError("down") for _ in range(50)))) == 42
    assert len(waits) == 50 and max(waits) == 0.02


def test_a_retry_made_by_the_callers_own_loop_is_timed_and_told_the_same() -> None:
    retry, _, notes = policy(first_s=0.2, max_s=30, jitter_s=1.0)
    waits = [retry.note("schema registry", n, TransientError("503")) for n in (1, 2, 3, 9)]
    assert [n.attempt for n in notes] == [1, 2, 3, 9]
    floors = [0.2, 0.4, 0.8, 30.0]
    assert all(f <= w <= min(f + 1.0, 30.0) for f, w in zip(floors, waits, strict=True))


def test_the_reason_is_the_faults_first_line() -> None:
    """A database error's SQL and background link stay out of logs and status."""
    fault = RuntimeError("(psycopg.OperationalError) connection refused\n[SQL: SELECT 1]")
    assert RetryNote("state store", 2, 0.35, fault).reason == (
        "(psycopg.OperationalError) connection refused"
    )
    assert RetryNote("x", 1, 0.0, TransientError()).reason == "TransientError"


def test_a_stop_ends_the_wait_before_a_retry_and_the_retries() -> None:
    stopping = threading.Event()
    flaky = Flaky(*[TransientError("down")] * 5)
    retry = Retry(transient, first_s=30, max_s=30, sleep=stoppable(stopping))
    threading.Timer(0.05, stopping.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped):
        retry.call("reading", flaky)
    assert flaky.calls == 1
    assert time.monotonic() - started < 5


def test_a_stop_asked_for_before_the_wait_ends_it_at_once() -> None:
    stopping = threading.Event()
    stopping.set()
    flaky = Flaky(TransientError("down"))
    with pytest.raises(Stopped):
        Retry(transient, first_s=30, max_s=30, sleep=stoppable(stopping)).call("reading", flaky)
    assert flaky.calls == 1
