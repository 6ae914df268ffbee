"""What a bootstrap run did: rows, documents, failures, the catch-up's rounds and how long
its fence held the table's live changes — for the CLI, the run history and the log."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cdc_sync.bootstrap.rounds import Round
from cdc_sync.bootstrap.writes import Failure

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    table: str
    index: str
    run_id: int
    rows: int = 0
    documents: int = 0
    replayed: int = 0
    """Change events replayed by the catch-up, over all its rounds."""
    failures: list[Failure] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    """The catch-up's rounds; the last one ran under the fence."""
    catch_up_s: float | None = None
    """From the end of the load to the swap (rounds, fence, last round, swap)."""
    fence_s: float | None = None
    """How long the fence held the table's live changes (None: never raised)."""

    @property
    def catch_up_tasks(self) -> int:
        return sum(r.tasks for r in self.rounds)

    def catch_up(self) -> dict[str, Any]:
        """What the run history keeps of the catch-up and the fence."""
        return {
            "fence_s": None if self.fence_s is None else round(self.fence_s, 3),
            "catch_up_s": None if self.catch_up_s is None else round(self.catch_up_s, 3),
            "catch_up_tasks": self.catch_up_tasks,
            "rounds": [r.as_json() for r in self.rounds],
        }


def report(outcome: Outcome, warn_s: float) -> None:
    """The log line of the catch-up and the fence; a warning past `warn_s`
    (bootstrap.fence_warn_s)."""
    fence_s = outcome.fence_s or 0.0
    log.info(
        "catch-up of %s: %d rounds (%.1fs, %d tasks); the fence held its live changes %.2fs",
        outcome.table,
        len(outcome.rounds),
        outcome.catch_up_s or 0.0,
        outcome.catch_up_tasks,
        fence_s,
    )
    if fence_s > warn_s:
        log.warning(
            "the bootstrap of %s held the table's live changes for %.1fs, longer than "
            "bootstrap.fence_warn_s (%gs); its last catch-up round took %.1fs",
            outcome.table,
            fence_s,
            warn_s,
            outcome.rounds[-1].seconds if outcome.rounds else 0.0,
        )
