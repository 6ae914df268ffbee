"""Compaction per id: every interleaving of replace / partial update / delete of one id ends
in the state that applying them one by one gives, for the shared rule (`documents.compact`)
and for the consumer's batches (`consumer.batch`), which follow it.

The model is Meilisearch's documented semantics ("Add and update documents",
meilisearch.com/docs/capabilities/indexing/how_to/add_and_update_documents): POST
/documents (add or replace) stores the whole new document, removing fields it lacks;
PUT /documents (add or update) changes only the fields it carries and creates a document
that does not exist; delete-batch removes the ids. tests/integration/test_compact_meili.py
checks the model against a real Meilisearch.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cdc_sync.config import TableSettings
from cdc_sync.consumer.batch import PartitionBatch
from cdc_sync.documents.compact import Compacted, Kind, after, compact
from cdc_sync.documents.mapping import Delete, DocumentOp, Upsert
from cdc_sync.kafka.types import Partition

Index = dict[str, dict[str, Any]]
Tasks = list[tuple[Kind, list[Any]]]
KINDS: tuple[Kind, ...] = ("replace", "update", "delete")
LONGEST = 6
"""Every sequence up to this length: 1,093 sequences (3^0 + … + 3^6)."""


def apply(index: Index, kind: Kind, payload: list[Any]) -> None:
    """One Meilisearch task, as documented."""
    for item in payload:
        if kind == "delete":
            index.pop(item, None)
        elif kind == "replace":
            index[item["id"]] = dict(item)
        else:
            index[item["id"]] = {**index.get(item["id"], {}), **item}


def operation(doc_id: str, kind: Kind, step: int) -> DocumentOp:
    """Distinct values per step; a full image drops the fields earlier images had."""
    if kind == "delete":
        return Delete(doc_id)
    if kind == "replace":
        return Upsert(doc_id, {"id": doc_id, "a": f"r{step}", f"only_r{step}": step})
    return Upsert(doc_id, {"id": doc_id, "a": f"p{step}", f"only_p{step}": step}, partial=True)


def in_order(index: Index, ops: list[DocumentOp]) -> Index:
    out = {k: dict(v) for k, v in index.items()}
    for op in ops:
        if isinstance(op, Delete):
            apply(out, "delete", [op.doc_id])
        else:
            apply(out, "update" if op.partial else "replace", [op.document])
    return out


def shared_rule(ops: list[DocumentOp], size: int) -> Tasks:
    return list(compact(ops).tasks(size))


def consumer_batch(ops: list[DocumentOp], size: int) -> Tasks:
    batch = PartitionBatch(Partition("t", 0), TableSettings(name="T", primary_key=["ID"]), 0.0)
    for offset, op in enumerate(ops):
        batch.add(offset, op)
    tasks: Tasks = []
    for kind, entries in batch.by_kind().items():
        if kind == "delete":
            tasks.append((kind, [e.doc_id for e in entries]))
        elif entries:
            tasks.append((kind, [json.loads(e.body or b"") for e in entries]))
    return tasks


COMPACTORS: dict[str, Callable[[list[DocumentOp], int], Tasks]] = {
    "documents.compact": shared_rule,
    "consumer.batch": consumer_batch,
}
STARTS: dict[str, Index] = {
    "absent": {},
    "present": {"x": {"id": "x", "a": "old", "only_old": 0}},
}


def sequences() -> Iterator[tuple[Kind, ...]]:
    for length in range(LONGEST + 1):
        yield from itertools.product(KINDS, repeat=length)


@pytest.mark.parametrize("compactor", COMPACTORS)
@pytest.mark.parametrize("start", STARTS)
def test_every_interleaving_of_one_id_ends_as_applying_them_in_order(
    compactor: str, start: str
) -> None:
    checked = 0
    for kinds in sequences():
        ops = [operation("x", kind, step) for step, kind in enumerate(kinds)]
        tasks = COMPACTORS[compactor](ops, 100)
        assert len([t for t in tasks if t[1]]) <= 1, (kinds, tasks)  # one write for one id
        compacted = {k: dict(v) for k, v in STARTS[start].items()}
        for kind, payload in tasks:
            apply(compacted, kind, payload)
        assert compacted == in_order(STARTS[start], ops), kinds
        checked += 1
    assert checked == sum(3**n for n in range(LONGEST + 1))


@pytest.mark.parametrize("compactor", COMPACTORS)
@pytest.mark.parametrize("seed", range(20))
def test_many_ids_interleaved_in_any_task_order(compactor: str, seed: int) -> None:
    """Ids are disjoint across the groups: the tasks may run in any order."""
    draw = random.Random(seed)
    ids = [str(i) for i in range(12)]
    start = {i: {"id": i, "a": "old"} for i in ids[::2]}
    ops = [operation(draw.choice(ids), draw.choice(KINDS), step) for step in range(60)]
    expected = in_order(start, ops)
    tasks = COMPACTORS[compactor](ops, 3)
    for order in itertools.islice(itertools.permutations(tasks), 50):
        index = {k: dict(v) for k, v in start.items()}
        for kind, payload in order:
            apply(index, kind, payload)
        assert index == expected


def test_tasks_are_at_most_one_per_kind_per_size_whatever_the_alternations() -> None:
    """10,000 operations alternating kinds on 1,000 ids: the tasks depend on the ids per
    kind and the size only (cut into runs of one kind, as catch-up did, they made 10,000 tasks)."""
    ops = [operation(str(step % 1000), KINDS[step % 3], step) for step in range(10_000)]
    state = compact(ops)
    sizes = {"delete": len(state.deletes), "replace": len(state.replaces)}
    sizes["update"] = len(state.updates)
    tasks = list(state.tasks(250))
    assert len(state) == 1000
    assert len(tasks) == sum(-(-n // 250) for n in sizes.values()) <= 1000 // 250 + 3
    assert all(len(payload) <= 250 for _, payload in tasks)


def test_the_rule_per_pair_of_kinds() -> None:
    assert after(None, "update") == ("update", False)
    assert after("delete", "update") == ("replace", False)
    assert after("replace", "update") == ("replace", True)
    assert after("update", "update") == ("update", True)
    for earlier in (None, *KINDS):
        assert after(earlier, "replace") == ("replace", False)
        assert after(earlier, "delete") == ("delete", False)


def test_an_empty_stretch_sends_nothing() -> None:
    assert len(Compacted()) == 0
    assert list(compact([]).tasks(10)) == []
