"""Our relay's wire format: Debezium-compatible JSON key and value (SPEC §4)."""

from __future__ import annotations

import json
from typing import Any

import orjson

from cdc_sync.events.model import ChangeEvent

CONNECTOR = "cdc-sync"


_STANDARD = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_SAME_IN_BOTH = (int, str, bool, type(None))
"""Value types orjson writes byte for byte as the standard encoder does (floats are not)."""


def _dumps(obj: Any) -> bytes:
    return _STANDARD.encode(obj).encode("utf-8")


def _dumps_value(obj: Any) -> bytes:
    """The same compact JSON as `_dumps` (up to number spelling: ``1e-07`` vs ``1e-7``),
    through orjson where it can; keys see `encode_key`."""
    try:
        return orjson.dumps(obj)
    except TypeError:  # integers past 64 bits and the like: the standard encoder decides
        return _dumps(obj)


def encode_key(key: dict[str, Any]) -> bytes:
    """``{"ID": 42}``: column order is the primary-key order, so equal keys are equal bytes.

    The key's bytes choose its partition, so they never change between
    versions: orjson only where it writes exactly what the standard encoder does.
    """
    if all(type(v) in _SAME_IN_BOTH for v in key.values()):
        try:
            return orjson.dumps(key)
        except TypeError:  # integers past 64 bits, lone surrogates: the standard encoder decides
            pass
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


def encode(event: ChangeEvent, now_ms: int) -> list[tuple[bytes | None, bytes | None]]:
    """Key/value records for one event; a delete is followed by a tombstone.

    A truncate has no key (Debezium's truncate events: "The message key is `null`"),
    so it goes to any partition and leaves nothing to compact.
    """
    if event.op == "t":
        return [(None, encode_value(event, now_ms))]
    key = encode_key(event.key)
    records: list[tuple[bytes | None, bytes | None]] = [(key, encode_value(event, now_ms))]
    if event.is_delete:
        records.append((key, None))
    return records
