"""The verifier's only direct writes to Meilisearch, in one place.

`verify --repair`, a Debezium table's fenced repair (docs/verify.md) and ids that can
be no key of their table come here; trigger and timestamp tables are otherwise repaired
through the stream (`source/repairs.py`).
"""

from __future__ import annotations

from typing import Any

from cdc_sync.bootstrap.writes import Failure, Target, apply_compacted
from cdc_sync.documents.compact import compact
from cdc_sync.documents.mapping import Delete, DocumentOp, Upsert

CHUNK = 1000


def write_repairs(
    target: Target, upserts: list[dict[str, Any]], deletes: list[str], size: int = CHUNK
) -> list[Failure]:
    """Replace `upserts` whole and delete `deletes` as one compacted stretch
    (`documents.compact`): every task enqueued together, then awaited together; what failed."""
    ops: list[DocumentOp] = [Upsert(str(doc[target.id_field]), doc) for doc in upserts]
    ops += [Delete(doc_id) for doc_id in deletes]
    _, failures = apply_compacted(target, compact(ops), size)
    return failures
