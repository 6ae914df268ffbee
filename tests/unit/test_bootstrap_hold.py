import datetime as dt
from typing import Any

import pytest

from cdc_sync.bootstrap.hold import Keeper, LeaseLost
from cdc_sync.errors import CdcSyncError
from cdc_sync.state.records import Lease

TTL = 1000.0  # the keeper's own thread never renews during a test: renewals are called here


class Store:
    def __init__(self) -> None:
        self.fences: list[str] = []
        self.failing: Exception | None = None

    def renew(self, lease: Lease, ttl_s: float) -> Lease:
        if self.failing:
            raise self.failing
        return lease

    def set_fence(self, table_name: str, holder: str, ttl_s: float) -> None:
        if self.failing:
            raise self.failing
        self.fences.append(table_name)

    def clear_fence(self, table_name: str) -> None:
        self.fences.clear()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def keeper(store: Any, clock: Clock) -> Keeper:
    lease = Lease("bootstrap:T", "me", 1, dt.datetime.now(dt.UTC))
    return Keeper(store, lease, TTL, "T", taken_at=clock.now, clock=clock)


def test_held_while_renewals_succeed_within_the_ttl() -> None:
    clock, store = Clock(), Store()
    k = keeper(store, clock)
    for _ in range(5):
        clock.now += TTL * 0.9
        k.confirm()
    k.check()
    k.stop()


def test_lost_once_the_ttl_passed_since_the_last_renewal_began() -> None:
    clock, store = Clock(), Store()
    k = keeper(store, clock)
    clock.now += TTL + 0.1
    with pytest.raises(LeaseLost, match=r"could not be renewed for 1000\.1s"):
        k.check()
    k.stop()


def test_a_renewal_that_succeeds_after_a_lapse_does_not_restore_the_lease() -> None:
    clock, store = Clock(), Store()
    k = keeper(store, clock)
    k.fence()
    store.failing = RuntimeError("state store unreachable")
    clock.now += TTL / 2
    with pytest.raises(LeaseLost, match="cannot confirm its lease: state store unreachable"):
        k.confirm()
    store.failing = None
    clock.now += TTL  # the store answers again, but the fence may have lapsed meanwhile
    with pytest.raises(LeaseLost, match="lease and consumer fence could not be renewed"):
        k.confirm()
    k.stop()


def test_a_lease_taken_over_is_lost() -> None:
    clock, store = Clock(), Store()
    k = keeper(store, clock)
    store.failing = CdcSyncError("lease bootstrap:T was lost by me")
    with pytest.raises(LeaseLost, match="was lost by me"):
        k.confirm()
    k.stop()


def test_the_fence_is_renewed_with_the_lease_and_cleared() -> None:
    clock, store = Clock(), Store()
    k = keeper(store, clock)
    k.fence()
    k.confirm()
    assert store.fences == ["T", "T"]
    k.unfence()
    k.confirm()
    assert store.fences == []
    k.stop()
