"""Per-id compaction: a stretch of document operations → one write per document id.

Applying an id's operations in order leaves its document in the same state as
applying the single operation they compact to (Meilisearch's semantics: a replace
sets the whole document, a partial update merges its fields into the document or
creates it, a delete removes it):

- a delete wins over everything before it;
- a full image (replace) wins over everything before it;
- a partial update merges its fields into the state before it: into a full image it
  stays a full image, into a partial update it stays partial, after a delete it is a
  full image of its own fields (the update creates the document), and with nothing
  before it in the stretch it stays partial (it merges into what the index holds).

The ids of the three resulting groups are disjoint, so their writes commute: they go
as at most one delete, one replace and one partial-update task per `size` documents,
in any order, enqueued together and awaited together. Used wherever a stretch of
events is replayed (bootstrap's catch-up rounds, `verify --repair`); the consumer's
batches (`consumer.batch.merge`) follow the same rule (`after`) on serialised bodies,
and `dlq replay` re-sends a key's dead letters from the last one that `WINS` on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from cdc_sync.documents.mapping import Delete, DocumentOp

Kind = Literal["delete", "replace", "update"]
Document = dict[str, Any]
WINS: frozenset[Kind] = frozenset({"delete", "replace"})
"""Kinds that win over everything before them on the same id."""


def kind_of(op: DocumentOp) -> Kind:
    if isinstance(op, Delete):
        return "delete"
    return "update" if op.partial else "replace"


def after(earlier: Kind | None, later: Kind) -> tuple[Kind, bool]:
    """The kind of `earlier` followed by `later` on one id, and whether `later`'s fields
    merge into `earlier`'s (True) or replace them (False)."""
    if later in WINS or earlier is None:
        return later, False
    if earlier == "delete":
        return "replace", False  # a partial update of a missing document creates it
    return earlier, True


@dataclass
class Compacted:
    """The last state of every id: three disjoint groups (insertion order kept)."""

    deletes: dict[str, None] = field(default_factory=dict)
    replaces: dict[str, Document] = field(default_factory=dict)
    updates: dict[str, Document] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.deletes) + len(self.replaces) + len(self.updates)

    def add(self, op: DocumentOp) -> None:
        """Fold one more operation (later than every one added before) into the state."""
        doc_id = op.doc_id
        earlier = self._pop(doc_id)
        kind, merges = after(earlier[0] if earlier else None, kind_of(op))
        if kind == "delete":
            self.deletes[doc_id] = None
            return
        assert not isinstance(op, Delete)
        document = {**earlier[1], **op.document} if merges and earlier else op.document
        (self.replaces if kind == "replace" else self.updates)[doc_id] = document

    def _pop(self, doc_id: str) -> tuple[Kind, Document] | None:
        if doc_id in self.deletes:
            del self.deletes[doc_id]
            return "delete", {}
        if doc_id in self.replaces:
            return "replace", self.replaces.pop(doc_id)
        if doc_id in self.updates:
            return "update", self.updates.pop(doc_id)
        return None

    def tasks(self, size: int) -> Iterator[tuple[Kind, list[Any]]]:
        """(kind, payload) per task: ids to delete, or documents; at most `size` each."""
        groups: tuple[tuple[Kind, list[Any]], ...] = (
            ("delete", list(self.deletes)),
            ("replace", list(self.replaces.values())),
            ("update", list(self.updates.values())),
        )
        for kind, items in groups:
            for start in range(0, len(items), size):
                yield kind, items[start : start + size]


def compact(ops: Iterable[DocumentOp]) -> Compacted:
    """The state each id ends in after `ops` (in order): see the module's rules."""
    state = Compacted()
    for op in ops:
        state.add(op)
    return state
