"""The verifier's only direct writes to Meilisearch, in one place.

`verify --repair`, a Debezium table's fenced repair (docs/verify.md) and ids that can
be no key of their table come here; trigger and timestamp tables are otherwise repaired
through the stream (`source/repairs.py`).
"""

from __future__ import annotations

from typing import Any

from cdc_sync.bootstrap.writes import Failure, Target, write_isolating

CHUNK = 1000


def write_repairs(
    target: Target, upserts: list[dict[str, Any]], deletes: list[str]
) -> list[Failure]:
    """Replace `upserts` whole and delete `deletes`, waiting for every task; what failed."""
    failures: list[Failure] = []
    for i in range(0, len(upserts), CHUNK):
        failures += write_isolating(target, "replace", upserts[i : i + CHUNK])
    for i in range(0, len(deletes), CHUNK):
        failures += write_isolating(target, "delete", deletes[i : i + CHUNK])
    return failures
