"""Checks a document must pass before it is sent: what Meilisearch is known to reject.

Catching these here keeps a bad document from failing (and slowing) a whole task.
"""

from __future__ import annotations

from typing import Any

from cdc_sync.errors import TerminalError

MAX_FIELDS = 65_535
"""Meilisearch's limit of fields per document (nested objects count flattened)."""


class InvalidDocument(TerminalError):
    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        super().__init__(reason)


def field_count(document: dict[str, Any], limit: int = MAX_FIELDS) -> int:
    """Fields as Meilisearch counts them, stopping early past `limit`."""
    count = 0
    stack: list[dict[str, Any]] = [document]
    while stack and count <= limit:
        current = stack.pop()
        for value in current.values():
            count += 1
            if isinstance(value, dict):
                stack.append(value)
    return count


def check_document(document: dict[str, Any]) -> None:
    if len(document) <= 32:
        for value in document.values():
            if isinstance(value, dict):
                break
        else:
            return  # small and flat: the common case, decided without counting
    if field_count(document) > MAX_FIELDS:
        raise InvalidDocument(
            "max_fields_limit_exceeded",
            f"document has more than {MAX_FIELDS} fields (Meilisearch's limit)",
        )
