"""When the dead-letter ratio guard last stopped a consumer of a group.

The consumer exits when the guard trips, so its own metrics go with it; the trip is kept
in the state store (a named entry beside the watermarks, as `dlq replay` keeps its
position) where every service's /metrics and `status` read it.
"""

from __future__ import annotations

import datetime as dt

from cdc_sync.state.store import StateStore


def _key(group: str) -> str:
    return f"dlq_guard:{group}"


def record_trip(store: StateStore, group: str, message: str) -> None:
    store.set_watermark(_key(group), {"message": message[:2000]})


def last_trip(store: StateStore, group: str) -> dt.datetime | None:
    entry = store.watermark_entry(_key(group))
    return None if entry is None else entry[1]
