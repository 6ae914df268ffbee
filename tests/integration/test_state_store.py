"""The state store's leases and fences on SQLite and on a shared PostgreSQL, whose own clock
measures them (hosts sharing it need not agree on the time)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cdc_sync.database_url import normalise_url
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


@pytest.mark.parametrize("attempt", range(3))
def test_services_starting_together_all_open_the_store(pg_url: str, attempt: int) -> None:
    """Invariant: services that open a new shared store at the same moment all start; the
    tables one of them is creating are not an error for the others (a relay and a consumer
    started together on PostgreSQL raced on CREATE TABLE and the consumer exited)."""
    schema = f"race_{attempt}_{int(time.time() * 1000)}"
    admin = create_engine(normalise_url(pg_url))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = f"{pg_url}?options=-csearch_path%3D{schema}"
    start, failures = threading.Barrier(6), []

    def open_store() -> None:
        start.wait()
        try:
            StateStore(url).close()
        except Exception as exc:  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
