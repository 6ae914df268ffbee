from __future__ import annotations

import datetime as dt
from pathlib import Path

from cdc_sync.state.guard_trips import last_trip, record_trip
from cdc_sync.state.store import StateStore


def test_a_trip_is_kept_per_group_with_its_time(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        assert last_trip(store, "g") is None
        before = dt.datetime.now(dt.UTC)
        record_trip(store, "g", "600 of the last 1000 records could not be applied")
        tripped = last_trip(store, "g")
        assert tripped is not None and tripped >= before - dt.timedelta(seconds=1)
        assert last_trip(store, "other") is None
    finally:
        store.close()
