"""The state store's leases and fences on SQLite and on a shared PostgreSQL, whose own clock
measures them (hosts sharing it need not agree on the time)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cdc_sync.state.store import LeaseHeld, StateStore

pytestmark = pytest.mark.stack


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    if request.param == "sqlite":
        return StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    return StateStore(request.getfixturevalue("pg_url"))


def test_one_holder_at_a_time_until_the_lease_lapses(store: StateStore) -> None:
    lease = store.acquire("bootstrap:T", "host-a:1", 0.5, run_id=7)
    with pytest.raises(LeaseHeld, match=r"held by host-a:1 \(run 7\)"):
        store.acquire("bootstrap:T", "host-b:2", 0.5)
    lease = store.renew(lease, 0.5)
    assert store.lease("bootstrap:T") == lease
    time.sleep(0.6)
    assert store.lease("bootstrap:T") is None
    taken = store.acquire("bootstrap:T", "host-b:2", 30)
    with pytest.raises(LeaseHeld, match="was lost by host-a:1"):
        store.renew(lease, 0.5)
    store.release(taken)
    assert store.active_leases() == []
    store.close()


def test_a_fence_holds_until_cleared_or_lapsed(store: StateStore) -> None:
    store.set_fence("T", "host-a:1", 30)
    store.set_fence("U", "host-a:1", 0.3)
    assert store.fenced_tables() == {"T", "U"}
    time.sleep(0.4)
    assert store.fenced_tables() == {"T"}
    store.clear_fence("T")
    assert store.fenced_tables() == set()
    store.close()
