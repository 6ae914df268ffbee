"""Content hashes and the comparison of expected and actual documents (pure)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cdc_sync.documents.numbers import held

EXAMPLES = 5


def normalise(value: Any) -> Any:
    """A type-stable form: integral floats become ints (1.0 and 1 are the same JSON number).

    A float is taken as the double Meilisearch holds for it: the same double,
    except for the rare ones no JSON spelling brings there (see documents/numbers.py).
    """
    if isinstance(value, float):
        value = held(value) if math.isfinite(value) else value
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    return value


def canonical(document: Mapping[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, normalised numbers."""
    return json.dumps(
        normalise(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def digest(document: Mapping[str, Any]) -> bytes:
    return hashlib.blake2b(canonical(document), digest_size=16).digest()


@dataclass
class Diff:
    """What differs between the source and the index for one table."""

    missing: list[str] = field(default_factory=list)
    """In the source, not in the index."""
    extra: list[str] = field(default_factory=list)
    """In the index, not in the source (or outside its filter)."""
    differing: list[str] = field(default_factory=list)
    """In both, with different content."""

    @property
    def in_sync(self) -> bool:
        return not (self.missing or self.extra or self.differing)

    def summary(self) -> dict[str, Any]:
        return {
            kind: {"count": len(ids), "examples": ids[:EXAMPLES]}
            for kind, ids in (
                ("missing", self.missing),
                ("extra", self.extra),
                ("differing", self.differing),
            )
        }


def compare_range(
    expected: Mapping[str, Mapping[str, Any]], actual: Mapping[str, Mapping[str, Any]], diff: Diff
) -> None:
    """Compare one key range: source documents by id against the index's documents by id."""
    for doc_id, document in expected.items():
        found = actual.get(doc_id)
        if found is None:
            diff.missing.append(doc_id)
        elif digest(found) != digest(document):
            diff.differing.append(doc_id)
