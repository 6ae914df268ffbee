"""Meilisearch calls with a retry budget: transient faults are retried, then reported."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from cdc_sync.errors import DependencyUnavailable, TransientError
from cdc_sync.sink.meili import classify

log = logging.getLogger(__name__)

T = TypeVar("T")


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, Exception) and isinstance(classify(exc), TransientError)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning("meilisearch call failed (attempt %d), retrying: %s", state.attempt_number, exc)


def call(fn: Callable[[], T], what: str, budget_s: float = 60.0) -> T:
    """Run a Meilisearch call, retrying transient faults for up to `budget_s` seconds; then
    DependencyUnavailable (exit 3) naming `what`. Other errors are classified (`classify`)."""
    retrying = Retrying(
        retry=retry_if_exception(_transient),
        stop=stop_after_delay(budget_s),
        wait=wait_exponential_jitter(multiplier=0.2, max=5),
        before_sleep=_log_retry,
        reraise=True,
    )
    try:
        return retrying(fn)
    except Exception as exc:
        problem = classify(exc)
        if isinstance(problem, TransientError):
            raise DependencyUnavailable(f"{what}: {problem}") from None
        raise problem from exc
