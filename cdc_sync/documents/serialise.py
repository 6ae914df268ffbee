"""Documents as the bytes sent to Meilisearch: compact UTF-8 JSON, `Exact` floats spelled
so that Meilisearch holds the same double (`documents.numbers`)."""

from __future__ import annotations

import json
from typing import Any

import orjson

from cdc_sync.documents.numbers import Exact, spelling


def _spelled(value: Any) -> orjson.Fragment:
    if isinstance(value, Exact):
        return orjson.Fragment(spelling(value).encode("ascii"))
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of documents, as sent to Meilisearch (`Exact` floats spelled for it).

    orjson's result keeps its whole working buffer (4 KiB for a small
    document); the copy holds only the bytes, which matters for the many
    documents a consumer holds in flight.
    """
    try:
        return bytes(memoryview(orjson.dumps(value, default=_spelled)))
    except TypeError:  # what orjson refuses (integers past 64 bits, …) the standard encoder decides
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
