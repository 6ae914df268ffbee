"""Our relay's wire format: Debezium-compatible JSON key and value (SPEC §4)."""

from __future__ import annotations

import json
from typing import Any

import orjson

from cdc_sync.events.model import ChangeEvent

CONNECTOR = "cdc-sync"


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _dumps_value(obj: Any) -> bytes:
    """The same compact JSON as `_dumps`, through orjson where it can (values only: key bytes
    decide partitions, so they keep one encoder)."""
    try:
        return orjson.dumps(obj)
    except TypeError:  # integers past 64 bits and the like: the standard encoder decides
        return _dumps(obj)


def encode_key(key: dict[str, Any]) -> bytes:
    """``{"ID": 42}``: column order is the primary-key order, so equal keys are equal bytes."""
    return _dumps(key)


def encode_value(event: ChangeEvent, now_ms: int) -> bytes:
    source: dict[str, Any] = {"connector": CONNECTOR, "table": event.table}
    if event.change_id is not None:
        source["change_id"] = event.change_id
    source["ts_ms"] = event.ts_ms if event.ts_ms is not None else now_ms
    return _dumps_value(
        {
            "before": event.before,
            "after": event.after,
            "source": source,
            "op": event.op,
            "ts_ms": now_ms,
        }
    )


def encode(event: ChangeEvent, now_ms: int) -> list[tuple[bytes, bytes | None]]:
    """Key/value records for one event; a delete is followed by a tombstone."""
    key = encode_key(event.key)
    records: list[tuple[bytes, bytes | None]] = [(key, encode_value(event, now_ms))]
    if event.is_delete:
        records.append((key, None))
    return records
