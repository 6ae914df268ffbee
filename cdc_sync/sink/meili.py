"""The meilisearch client for administrative calls, and error classification at the boundary.

Document batches and task polling go through `cdc_sync.sink.http` instead.
"""

from __future__ import annotations

import meilisearch
import requests
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchTimeoutError,
)

from cdc_sync.config import MeilisearchSettings
from cdc_sync.errors import CdcSyncError, TerminalError, TransientError


def meili_client(settings: MeilisearchSettings) -> meilisearch.Client:
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return meilisearch.Client(settings.url, key, timeout=int(settings.timeout_s))


def classify(exc: Exception) -> CdcSyncError:
    """Connection errors, timeouts, 5xx and 429 are transient; other API errors are terminal."""
    if isinstance(exc, CdcSyncError):  # already classified (`cdc_sync.sink.http`)
        return exc
    if isinstance(
        exc,
        MeilisearchCommunicationError
        | MeilisearchTimeoutError
        | requests.ConnectionError
        | requests.Timeout,
    ):
        return TransientError(f"meilisearch unreachable: {type(exc).__name__}")
    if isinstance(exc, MeilisearchApiError):
        status = getattr(exc, "status_code", None) or 0
        code = getattr(exc, "code", None)
        if status >= 500 or status == 429:
            return TransientError(f"meilisearch HTTP {status} {code}")
        return TerminalError(f"meilisearch HTTP {status} {code}: {getattr(exc, 'message', exc)}")
    return TransientError(f"meilisearch: {type(exc).__name__}: {exc}")
