"""The hot path to Meilisearch over one pooled httpx client: document writes and task status.

Administrative calls (indexes, settings, swaps) go through the meilisearch
client (`cdc_sync.sink.meili`); the calls made per batch go straight through
httpx, so neither library's internals are relied upon and an upgrade of one
cannot break the other. Payloads are bytes already serialised by the caller.

Errors are classified here, where they enter: connection errors, timeouts,
HTTP 5xx and 429 raise `TransientError`; other refusals raise `ApiRejected`
with Meilisearch's error code.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from cdc_sync.config import MeilisearchSettings
from cdc_sync.errors import TerminalError, TransientError

FINISHED = "succeeded,failed,canceled"
_JSON = {"Content-Type": "application/json"}


class ApiRejected(TerminalError):
    """Meilisearch answered with a 4xx other than 429 (`status`, its error `code`)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        super().__init__(f"meilisearch HTTP {status} {code}: {message}")
        self.message = message


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    uid: int
    status: str
    error: dict[str, Any] | None
    finished_at: str | None = None
    """RFC 3339 (UTC, nanoseconds) as Meilisearch reports it."""


class SinkHttp:
    """Document batches and task polling for one Meilisearch; keeps connections alive."""

    def __init__(self, settings: MeilisearchSettings) -> None:
        headers = {"User-Agent": "cdc-sync"}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self._client = httpx.Client(
            base_url=settings.url.rstrip("/"), headers=headers, timeout=settings.timeout_s
        )

    def close(self) -> None:
        self._client.close()

    def add_documents(self, index: str, payload: bytes, primary_key: str, *, replace: bool) -> int:
        """Enqueue a JSON array of documents: replaced whole, or merged into existing ones."""
        method = "POST" if replace else "PUT"
        path = f"/indexes/{quote(index)}/documents"
        return self._task(method, path, payload, {"primaryKey": primary_key})

    def delete_documents(self, index: str, ids: Iterable[str | int]) -> int:
        path = f"/indexes/{quote(index)}/documents/delete-batch"
        return self._task("POST", path, orjson.dumps(list(ids)))

    def delete_all_documents(self, index: str) -> int:
        return self._task("DELETE", f"/indexes/{quote(index)}/documents")

    def finished_tasks(self, uids: Iterable[int]) -> list[TaskOutcome]:
        """The given tasks that have finished (one request, finished ones only)."""
        wanted = sorted(uids)
        if not wanted:
            return []
        params = {"uids": ",".join(map(str, wanted)), "statuses": FINISHED, "limit": len(wanted)}
        found = self._request("GET", "/tasks", params=params)["results"]
        return [
            TaskOutcome(int(t["uid"]), t["status"], t.get("error"), t.get("finishedAt"))
            for t in found
        ]

    def task(self, uid: int) -> TaskOutcome:
        found = self._request("GET", f"/tasks/{uid}")
        return TaskOutcome(
            int(found["uid"]), found["status"], found.get("error"), found.get("finishedAt")
        )

    def wait(
        self, uid: int, timeout_s: float, interval_s: float = 0.01, max_interval_s: float = 0.1
    ) -> TaskOutcome:
        """Poll one task until it finished (any status); TransientError past `timeout_s`.

        The interval grows from `interval_s` to `max_interval_s`: a short task is seen at
        once, and a long one (a bulk load's batch) costs Meilisearch — on the same cores —
        a few requests rather than one every few milliseconds.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            task = self.task(uid)
            if task.status in ("succeeded", "failed", "canceled"):
                return task
            if time.monotonic() > deadline:
                raise TransientError(
                    f"meilisearch task {uid} still {task.status} after {timeout_s}s"
                )
            time.sleep(interval_s)
            interval_s = min(interval_s * 1.5, max_interval_s)

    def _task(self, method: str, path: str, body: bytes | None = None, params: Any = None) -> int:
        return int(self._request(method, path, body, params)["taskUid"])

    def _request(
        self, method: str, path: str, body: bytes | None = None, params: Any = None
    ) -> Any:
        try:
            response = self._client.request(
                method, path, content=body, params=params, headers=_JSON if body else None
            )
        except httpx.TransportError as exc:  # connect, read, write, pool, protocol, timeouts
            raise TransientError(f"meilisearch unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if status < 300:
            return orjson.loads(response.content)
        try:
            error = orjson.loads(response.content)
            code, message = str(error.get("code")), str(error.get("message"))
        except (orjson.JSONDecodeError, AttributeError):
            code, message = f"http_{status}", response.text[:500]
        if status >= 500 or status == 429:
            raise TransientError(f"meilisearch HTTP {status} {code}")
        raise ApiRejected(status, code, message)
