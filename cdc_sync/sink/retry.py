"""Meilisearch calls with a retry budget: transient faults are retried, then reported."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from cdc_sync.errors import DependencyUnavailable, TransientError
from cdc_sync.retry import Retry
from cdc_sync.sink.meili import classify

log = logging.getLogger(__name__)

T = TypeVar("T")


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, Exception) and isinstance(classify(exc), TransientError)


def call(fn: Callable[[], T], what: str, budget_s: float = 60.0) -> T:
    """Run a Meilisearch call, retrying transient faults for up to `budget_s` seconds; then
    DependencyUnavailable (exit 3) naming `what`. Other errors are classified (`classify`)."""
    retry = Retry(_transient, first_s=0.2, max_s=5, budget_s=budget_s, logger=log)
    try:
        return retry.call(what, fn)
    except Exception as exc:
        problem = classify(exc)
        if isinstance(problem, TransientError):
            raise DependencyUnavailable(f"{what}: {problem}") from None
        raise problem from exc
