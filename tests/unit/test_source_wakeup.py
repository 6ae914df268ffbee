"""The relay's pacing between rounds: pure decisions, no clock."""

from __future__ import annotations

from cdc_sync.source.wakeup import Pacer, Round

IDLE = Round()


def test_a_full_round_goes_again_at_once() -> None:
    pacer = Pacer(0.05)
    assert pacer.after(Round(full=True, progressed=True)) == 0.0
    assert pacer.after(Round(full=True)) == 0.0


def test_after_a_change_the_wait_starts_short_and_doubles_while_idle() -> None:
    pacer = Pacer(0.05)
    assert pacer.after(IDLE) == 0.05  # a relay that has seen nothing polls at the interval
    waits = [pacer.after(Round(progressed=True))] + [pacer.after(IDLE) for _ in range(5)]
    assert waits == [0.005, 0.01, 0.02, 0.04, 0.05, 0.05]


def test_rows_held_by_another_relay_back_off_like_idle() -> None:
    pacer = Pacer(1.0, start_s=0.1)
    pacer.after(Round(progressed=True))
    assert [pacer.after(Round(pending=True)) for _ in range(4)] == [0.2, 0.4, 0.8, 1.0]
    assert Round(pending=True).active and not IDLE.active


def test_the_start_never_exceeds_the_longest_wait() -> None:
    pacer = Pacer(0.01, start_s=0.5)
    assert pacer.after(Round(progressed=True)) == 0.01
