"""The model the compaction tests use is what a real Meilisearch does: every interleaving of
replace / partial update / delete of one id, applied one task per step to one index and
compacted (`documents.compact`) to another, leaves both indexes with the same documents."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import meilisearch
import pytest

from cdc_sync.documents.compact import Kind, compact
from cdc_sync.documents.mapping import Delete, DocumentOp
from tests.conftest import unique
from tests.unit.test_documents_compact import KINDS, in_order, operation

pytestmark = pytest.mark.stack
LONGEST = 4


def write(index: meilisearch.index.Index, kind: Kind, payload: list[Any]) -> int:
    if kind == "delete":
        return int(
            index.http.post(f"indexes/{index.uid}/documents/delete-batch", payload)["taskUid"]
        )
    if kind == "replace":
        return int(index.add_documents(payload, "id").task_uid)
    return int(index.update_documents(payload, "id").task_uid)


def documents(meili: meilisearch.Client, uid: str) -> dict[str, dict[str, Any]]:
    page = meili.http.post(f"indexes/{uid}/documents/fetch", {"limit": 10_000})
    return {d["id"]: d for d in page["results"]}


@pytest.fixture
def two_indexes(meili: meilisearch.Client) -> Iterator[tuple[str, str]]:
    uids = unique("ordered"), unique("compacted")
    for uid in uids:
        meili.wait_for_task(meili.create_index(uid, {"primaryKey": "id"}).task_uid)
    yield uids
    for uid in uids:
        meili.delete_index(uid)


def test_compacted_writes_leave_meilisearch_as_writes_in_order_do(
    meili: meilisearch.Client, two_indexes: tuple[str, str]
) -> None:
    sequences = [
        kinds for n in range(1, LONGEST + 1) for kinds in itertools.product(KINDS, repeat=n)
    ]
    ops: dict[str, list[DocumentOp]] = {}
    for number, kinds in enumerate(sequences):
        for start in ("absent", "present"):
            doc_id = f"{start}-{number}"
            ops[doc_id] = [operation(doc_id, kind, step) for step, kind in enumerate(kinds)]
    start_docs = [{"id": i, "a": "old", "only_old": 0} for i in ops if i.startswith("present")]
    ordered, compacted = (meili.index(uid) for uid in two_indexes)
    tasks = [write(ordered, "replace", start_docs), write(compacted, "replace", start_docs)]
    for step in range(LONGEST):  # in order: step by step, one task per kind per step
        for kind in KINDS:
            at_step = [o[step] for o in ops.values() if len(o) > step]
            payload = [
                o.doc_id if isinstance(o, Delete) else o.document
                for o in at_step
                if (kind == "delete") == isinstance(o, Delete)
                and (isinstance(o, Delete) or (kind == "update") == o.partial)
            ]
            if payload:
                tasks.append(write(ordered, kind, payload))
    every_op = [op for step in itertools.zip_longest(*ops.values()) for op in step if op]
    tasks += [write(compacted, kind, payload) for kind, payload in compact(every_op).tasks(1000)]
    for uid in tasks:
        assert meili.wait_for_task(uid, timeout_in_ms=60_000).status == "succeeded"
    expected = in_order({d["id"]: d for d in start_docs}, every_op)
    assert documents(meili, two_indexes[0]) == expected
    assert documents(meili, two_indexes[1]) == expected
