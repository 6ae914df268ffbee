"""Catch-up in rounds before the fence (the iterative pre-copy of live migration).

The changes made while a table was loaded are replayed into the staging index while
the consumers still apply live changes to the live index: [P0, E1), then the changes
made meanwhile, [E1, E2), … Each round is shorter than the one before as long as a
round replays faster than the source changes. Once the window left is small, the
consumers are fenced for the last short window only. docs/bootstrap.md argues why
nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cdc_sync.kafka.reader import Offsets

FENCE_AT_RECORDS = 1000
"""A window of at most this many records is left for the fenced round."""
MAX_ROUNDS = 8
"""Rounds without the fence at most; then the fence is raised whatever is left."""


@dataclass(frozen=True, slots=True)
class Round:
    records: int
    """Records of the table's topic in the window."""
    documents: int
    """Writes after compaction per id."""
    tasks: int
    """Meilisearch tasks enqueued."""
    seconds: float
    fenced: bool = False

    def as_json(self) -> dict[str, int | float | bool]:
        return {
            "records": self.records,
            "documents": self.documents,
            "tasks": self.tasks,
            "seconds": round(self.seconds, 3),
            "fenced": self.fenced,
        }


def records_between(start: Offsets, end: Offsets) -> int:
    return sum(max(0, stop - start.get(p, 0)) for p, stop in end.items())


def fence_now(window: int, done: list[Round]) -> bool:
    """Whether the window of `window` records goes under the fence, after the rounds `done`.

    It does when it is small, after MAX_ROUNDS, or when it did not shrink: the source then
    changes at least as fast as a round replays, and more rounds would not shorten the
    fenced one.
    """
    if window <= FENCE_AT_RECORDS or len(done) >= MAX_ROUNDS:
        return True
    return bool(done) and window >= done[-1].records


def pre_copy(
    start: Offsets,
    end_offsets: Callable[[], Offsets],
    replay: Callable[[Offsets, Offsets], Round],
) -> tuple[Offsets, list[Round]]:
    """Replay rounds from `start` until the window left is small; returns where the next
    (fenced) round starts and the rounds done."""
    position = start
    done: list[Round] = []
    while True:
        end = end_offsets()
        if fence_now(records_between(position, end), done):
            return position, done
        done.append(replay(position, end))
        position = end
