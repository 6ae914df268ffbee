"""Which offsets of a partition may be committed (SPEC §6).

A record is *done* once its document operation is applied in Meilisearch or it
is dead-lettered. The commit position is the offset after the contiguous done
prefix: a later record finishing first never moves it past an earlier one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable


class OffsetTracker:
    """Received and done offsets of one partition, in arrival (= offset) order."""

    def __init__(self) -> None:
        self._pending: deque[int] = deque()
        self._done: set[int] = set()
        self._next: int | None = None  # offset after the done prefix
        self._committed: int | None = None
        self._last: int | None = None

    def received(self, offset: int) -> None:
        if self._last is not None and offset <= self._last:
            raise ValueError(f"offset {offset} received after {self._last}")
        self._pending.append(offset)
        self._last = offset

    def done(self, offsets: Iterable[int]) -> None:
        self._done.update(offsets)
        while self._pending and self._pending[0] in self._done:
            offset = self._pending.popleft()
            self._done.discard(offset)
            self._next = offset + 1

    @property
    def last(self) -> int | None:
        """The highest offset received so far."""
        return self._last

    @property
    def first_pending(self) -> int | None:
        """The first offset received but not yet done."""
        return self._pending[0] if self._pending else None

    @property
    def outstanding(self) -> int:
        """Received but not yet done."""
        return len(self._pending)

    def committable(self) -> int | None:
        """The offset to commit, if it moved since the last `mark_committed`."""
        if self._next is None or self._next == self._committed:
            return None
        return self._next

    @property
    def committed(self) -> int | None:
        return self._committed

    def mark_committed(self, offset: int) -> None:
        self._committed = offset
