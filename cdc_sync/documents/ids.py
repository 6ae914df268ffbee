"""Document ids: a valid Meilisearch id passes through, anything else is encoded.

Meilisearch accepts ids of ``[A-Za-z0-9_-]``, at most 511 bytes. Single-column
keys that fit are used as they are. Composite keys, keys with other characters
and keys that happen to start with the encoding's prefix are encoded as
``PREFIX + base64url(JSON list of the key values)``, which is deterministic,
reversible and cannot collide with a pass-through id.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from cdc_sync.errors import TerminalError

PREFIX = "k--"
MAX_ID_BYTES = 511
_VALID = re.compile(r"^[A-Za-z0-9_-]{1,511}$")
_INT64 = 2**63 - 1
_EXACT_INTEGER = 2**53  # as events/values.py: the relay sends larger integers as strings


class InvalidKey(TerminalError):
    """A key that cannot become a document id (null part, too long)."""

    code = "invalid_key"


def _normalise(value: Any) -> int | str:
    if isinstance(value, bool) or value is None:
        raise InvalidKey(f"primary-key value {value!r} cannot be part of a document id")
    if isinstance(value, float | Decimal) and value == int(value):
        value = int(value)
    if isinstance(value, int):
        # The relay sends integers past 2**53 as strings: the same key, the same id.
        return value if -_EXACT_INTEGER <= value <= _EXACT_INTEGER else str(value)
    if isinstance(value, Decimal):
        # As the relay sends it: the float when that is the same number, else the exact digits.
        as_float = float(value)
        return repr(as_float) if Decimal(repr(as_float)) == value else format(value, "f")
    if isinstance(value, dt.date | dt.time):  # the relay sends keys as ISO strings
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):  # and binary keys as base64
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def document_id(values: list[Any]) -> str:
    """The document id for the primary-key values, in primary-key column order."""
    if not values:
        raise InvalidKey("empty primary key")
    if len(values) == 1 and values[0].__class__ is int and abs(values[0]) <= _INT64:
        return str(values[0])  # the common case: digits (and a sign) are a valid id
    parts = [_normalise(v) for v in values]
    if len(parts) == 1:
        plain = str(parts[0])
        if _VALID.fullmatch(plain) and not plain.startswith(PREFIX):
            return plain
    payload = json.dumps(parts, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    encoded = PREFIX + base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")
    if len(encoded) > MAX_ID_BYTES:
        raise InvalidKey(f"primary key is too long for a Meilisearch id ({len(encoded)} bytes)")
    return encoded


def key_values(doc_id: str) -> list[int | str]:
    """Invert `document_id` (pass-through ids come back as strings)."""
    if not doc_id.startswith(PREFIX):
        return [doc_id]
    body = doc_id[len(PREFIX) :]
    decoded: list[int | str] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded
