"""The Meilisearch client and error classification at the boundary."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import meilisearch
import requests
from meilisearch._httprequests import HttpRequests
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchTimeoutError,
)

from cdc_sync.config import MeilisearchSettings
from cdc_sync.errors import CdcSyncError, TerminalError, TransientError

_local = threading.local()


def _session() -> requests.Session:
    """This thread's keep-alive session (sessions are not shared between threads)."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


class _KeepAliveRequests(HttpRequests):
    """Sends through a pooled session instead of ``requests.get``/``post``/… .

    The library's module-level calls open a new session and TCP connection per
    request, which costs a busy consumer more CPU than the request itself.
    """

    def send_request(
        self,
        http_method: Callable[..., requests.Response],
        path: str,
        body: Any = None,
        content_type: str | None = None,
        *,
        serializer: Any = None,
    ) -> Any:
        pooled = getattr(_session(), http_method.__name__)
        return super().send_request(pooled, path, body, content_type, serializer=serializer)


class Client(meilisearch.Client):
    """``meilisearch.Client`` whose requests, and its indexes', reuse connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keep_alive(self)

    def _keep_alive(self, owner: Any) -> None:
        owner.http = _KeepAliveRequests(self.config, self._custom_headers)
        owner.task_handler.http = _KeepAliveRequests(self.config, self._custom_headers)

    def index(self, uid: str) -> Any:
        index = super().index(uid)
        self._keep_alive(index)
        return index


def meili_client(settings: MeilisearchSettings) -> meilisearch.Client:
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return Client(settings.url, key, timeout=int(settings.timeout_s))


def classify(exc: Exception) -> CdcSyncError:
    """Connection errors, timeouts, 5xx and 429 are transient; other API errors are terminal."""
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
