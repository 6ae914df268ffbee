"""One retry policy: transient faults retried with exponential backoff and jitter, for a budget.

Every caller says the same things: which faults are worth another attempt (its classifier;
errors are classified where they enter), for how long (seconds or attempts; neither: until
it succeeds), how far apart (from `first_s`, doubling, plus up to `jitter_s` of jitter, at
most `max_s`: tenacity's `wait_exponential_jitter`), how to wait (`sleep`: the consumer keeps
polling Kafka meanwhile), and whom to tell: every retry is logged on the caller's logger,
and `on_retry` adds the caller's metrics and status. What to do once the budget is spent
(exit 3 naming the dependency, hold the work) stays with the caller: the last fault is
raised as it was.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    stop_any,
    stop_never,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryNote:
    """A retry about to be made."""

    what: str
    attempt: int
    """The attempt that failed (the first is 1)."""
    wait_s: float
    cause: BaseException

    @property
    def reason(self) -> str:
        """The fault's first line (a database error's SQL and links stay out)."""
        text = str(self.cause).strip()
        return text.splitlines()[0] if text else type(self.cause).__name__

    @property
    def message(self) -> str:
        return (
            f"{self.what} failed (attempt {self.attempt}), "
            f"retrying in {self.wait_s:.1f}s: {self.reason}"
        )


class Stopped(Exception):
    """A stop was asked for while waiting before a retry: the retries end there."""


def stoppable(stopping: threading.Event) -> Callable[[float], None]:
    """A `sleep` for `Retry` that ends early, raising `Stopped`, once `stopping` is set."""

    def sleep(seconds: float) -> None:
        if stopping.wait(seconds):
            raise Stopped

    return sleep


def _nobody(note: RetryNote) -> None:
    """No one to tell besides the log."""


class Retry:
    """How one caller retries (see the module's docstring); `call` runs a call under it."""

    def __init__(
        self,
        transient: Callable[[BaseException], bool],
        *,
        first_s: float,
        max_s: float,
        jitter_s: float = 1.0,
        budget_s: float | None = None,
        attempts: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[RetryNote], None] = _nobody,
        logger: logging.Logger = log,
        level: int = logging.WARNING,
    ) -> None:
        self.transient = transient
        self.wait = wait_exponential_jitter(multiplier=first_s, max=max_s, jitter=jitter_s)
        stops: list[stop_base] = []
        if budget_s is not None:
            stops.append(stop_after_delay(budget_s))
        if attempts is not None:
            stops.append(stop_after_attempt(attempts))
        self.stop: stop_base = stop_any(*stops) if stops else stop_never
        self.sleep = sleep
        self.on_retry = on_retry
        self.logger = logger
        self.level = level

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """`fn`'s result, retrying its transient faults while the budget lasts; then the last
        fault is raised, as any other fault is at once. The first attempt goes without
        building tenacity's machinery (the common case, on the consumer's hot path)."""
        try:
            return fn()
        except Exception as exc:
            if not self.transient(exc):
                raise
            seen: list[BaseException] = [exc]

        def attempt() -> T:
            if seen:
                raise seen.pop()  # tenacity's first attempt: the fault already met
            return fn()

        retrying = Retrying(
            retry=retry_if_exception(self.transient),
            stop=self.stop,
            wait=self.wait,
            sleep=self.sleep,
            before_sleep=lambda state: self._tell(what, state),
            reraise=True,
        )
        return retrying(attempt)

    def note(self, what: str, attempt: int, cause: BaseException) -> float:
        """For a caller whose retries are turns of its own loop (the consumer takes a record
        in again at its next turn): log and report the retry after failed attempt `attempt`;
        the wait before it."""
        state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = attempt
        return self._report(RetryNote(what, attempt, self.wait(state), cause))

    def _tell(self, what: str, state: RetryCallState) -> None:
        cause = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if cause is not None:
            self._report(RetryNote(what, state.attempt_number, wait, cause))

    def _report(self, note: RetryNote) -> float:
        self.logger.log(self.level, "%s", note.message)
        self.on_retry(note)
        return note.wait_s
