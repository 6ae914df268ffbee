"""Debezium's unavailable-value placeholder in every form a connector sends it.

An unchanged LOB (or TOASTed value) arrives as the connector's
``unavailable.value.placeholder``: as text in text columns, and in binary columns
as the placeholder's bytes, which ``binary.handling.mode`` then encodes: raw bytes
(base64 in JSON), base64, URL-safe base64 or lower-case hex (Debezium's
JdbcValueConverters.convertBinary). Debezium's PostgreSQL connector sends the
text itself in hex mode.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cdc_sync.events.model import UNAVAILABLE


@dataclass(frozen=True, slots=True)
class Placeholder:
    text: str
    spellings: frozenset[str]
    """The text and the binary modes' encodings of its bytes."""
    raw: bytes
    """Its bytes: a binary column's value in bytes mode (Avro, or JSON decoded by its schema)."""

    def matches(self, value: Any) -> bool:
        kind = value.__class__
        return (kind is str and value in self.spellings) or (kind is bytes and value == self.raw)


@lru_cache(maxsize=64)
def placeholder(text: str = UNAVAILABLE) -> Placeholder:
    """The placeholder `text` (Debezium's default unless configured), with its spellings."""
    raw = text.encode("utf-8")  # Java's String.getBytes() on the connector's platform
    spellings = {
        text,
        base64.b64encode(raw).decode("ascii"),
        base64.urlsafe_b64encode(raw).decode("ascii"),
        raw.hex(),
    }
    return Placeholder(text, frozenset(spellings), raw)
