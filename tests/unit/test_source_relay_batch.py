"""How many change-log rows the relay locks next, as packed rows come and go."""

from __future__ import annotations

from cdc_sync.source.relay import next_lock


def test_the_lock_shrinks_to_what_packed_rows_let_a_batch_take_and_grows_back() -> None:
    """Invariant: a batch never locks many rows it cannot hold (each packed row holds up
    to 1000 keys), and one-key rows get back to full batches within a few rounds."""
    assert next_lock(1000, 1000, 1000, 1000) == 1000  # one-key rows, full batches
    assert next_lock(1000, 1000, 40, 1) == 1  # a packed row filled the batch
    assert next_lock(1000, 1, 1, 1) == 2
    assert next_lock(1000, 2, 2, 1) == 1
    limit = 1
    for _ in range(10):  # one-key rows again: doubling back up to batch_size
        limit = next_lock(1000, limit, limit, limit)
    assert limit == 1000
    assert next_lock(1000, 4, 3, 3) == 1000  # drained: the next batch may be anything
    assert next_lock(5000, 1000, 0, 0) == 5000
