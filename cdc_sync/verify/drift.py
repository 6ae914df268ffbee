"""When a difference is drift, and which kind (pure).

A pass reads a key range from the source and the same ids from the index; a difference
there may only be the stream's lag. So each suspect is looked at again once the consumers
have passed the stream's end as it was right after that read: it is drift only when the
index still holds exactly what the pass saw there (the stream left the document alone
meanwhile) and that still differs from the source as read again. A document the stream
changed in between is the stream's to finish, not the verifier's (docs/verify.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from cdc_sync.verify.diff import digest

Kind = Literal["missing", "extra", "differing"]
KINDS: tuple[Kind, ...] = ("missing", "extra", "differing")
Document = Mapping[str, Any]


def same(a: Document | None, b: Document | None) -> bool:
    """Equal as documents (canonical JSON: key order and 1.0 against 1 do not count)."""
    if a is None or b is None:
        return a is b
    return digest(a) == digest(b)


def confirmed(
    expected: Document | None, first: Document | None, now: Document | None
) -> Kind | None:
    """`expected`: the source's document now (None: no row); `first`: the index's document
    when the pass read it; `now`: the index's document now."""
    if same(now, expected) or not same(first, now):
        return None
    if expected is None:
        return "extra"
    if now is None:
        return "missing"
    return "differing"
