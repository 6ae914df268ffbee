"""Secrets masked in anything shown: status output, /status, the dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """`value` (JSON-like) with every occurrence of a secret replaced by ``***``."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    return value
