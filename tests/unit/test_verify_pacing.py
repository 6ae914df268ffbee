"""The continuous verifier's pure parts: the token bucket, drift confirmation, the schedule."""

from __future__ import annotations

import pytest

from cdc_sync.verify.bucket import Pacer, TokenBucket
from cdc_sync.verify.cursor import Cursor, PassState, next_pass_at
from cdc_sync.verify.drift import confirmed


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_saves_little_up_and_paces_reads_to_the_rate() -> None:
    """A pass of N rows at R rows/s takes N/R seconds, so its measured rate is R: no burst at
    the start, and after an idle time a quarter second's budget at most."""
    clock = Clock()
    bucket = TokenBucket(1000.0, clock=clock)
    assert bucket.reserve(500) == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.reserve(500) == pytest.approx(0.5)  # the next 500 accrue from now
    clock.now += 0.5
    clock.now += 10  # idle: a quarter second's worth is saved up, no more
    assert bucket.reserve(1000) == pytest.approx(0.75)
    assert bucket.reserve(1000) == pytest.approx(1.75)


def test_a_table_budget_below_the_service_budget_is_the_one_that_waits() -> None:
    clock = Clock()
    pacer = Pacer(TokenBucket(2000.0, clock=clock), TokenBucket(500.0, clock=clock))
    assert pacer.reserve(500) == pytest.approx(1.0)
    assert Pacer(TokenBucket(2000.0, clock=clock), None).reserve(500) == pytest.approx(0.25)


DOC = {"id": "1", "title": "a"}
EDITED = {"id": "1", "title": "by hand"}
NEWER = {"id": "1", "title": "b"}


@pytest.mark.parametrize(
    ("expected", "first", "now", "kind"),
    [
        (DOC, EDITED, EDITED, "differing"),  # edited by hand, the stream left it
        (DOC, None, None, "missing"),  # deleted by hand, or a row the stream never saw
        (None, DOC, DOC, "extra"),  # a row gone that the stream never removed
        (DOC, EDITED, DOC, None),  # the stream caught up: lag, not drift
        (NEWER, DOC, DOC | {"title": "c"}, None),  # the stream moved it: not ours to judge
        (NEWER, None, NEWER, None),
        (None, None, None, None),
        (DOC, DOC, DOC, None),
        ({"id": "1", "n": 1}, {"id": "1", "n": 1.0}, {"id": "1", "n": 1.0}, None),  # 1 == 1.0
    ],
)
def test_drift_is_confirmed_only_where_the_stream_left_the_document_as_the_pass_saw_it(
    expected: dict | None, first: dict | None, now: dict | None, kind: str | None
) -> None:
    assert confirmed(expected, first, now) == kind


def test_a_pass_starts_every_period_after_the_last_one_started() -> None:
    assert next_pass_at(Cursor(), every_s=60, now=1000.0) == 1000.0
    done = Cursor(last={"started_at": 900.0, "ended_at": 990.0})
    assert next_pass_at(done, every_s=60, now=1000.0) == 960.0
    assert next_pass_at(done, every_s=3600, now=1000.0) == 4500.0


def test_a_cursor_survives_the_state_store_with_typed_positions() -> None:
    import datetime as dt
    from decimal import Decimal

    state = PassState(run_id=7, started_at=12.5, total=300)
    state.position = [dt.datetime(2024, 5, 1, 10, 0), Decimal("1.50"), "x", 3]
    state.rows_read, state.found["differing"], state.repaired["differing"] = 250, 2, 2
    cursor = Cursor(current=state, last={"started_at": 1.0, "ended_at": 2.0})
    again = Cursor.from_json(cursor.as_json())
    assert again == cursor
    assert again.current is not None and again.current.position == state.position
    assert again.current.progress == pytest.approx(250 / 300)
