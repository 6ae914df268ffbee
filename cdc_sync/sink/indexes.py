"""Creating indexes and applying their settings, idempotently (SPEC §5)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

import meilisearch
from meilisearch.errors import MeilisearchApiError

from cdc_sync.config import TableSettings
from cdc_sync.sink.retry import call

log = logging.getLogger(__name__)
T = TypeVar("T")


def index_exists(client: meilisearch.Client, uid: str) -> bool:
    try:
        client.get_index(uid)
        return True
    except MeilisearchApiError as exc:
        if getattr(exc, "code", None) == "index_not_found":
            return False
        raise


def ensure_index(
    client: meilisearch.Client, uid: str, table: TableSettings, budget_s: float = 120.0
) -> None:
    """Create the index with the table's primary key if missing; apply settings if they differ.

    Each request retries transient faults for up to `budget_s` (a service starting next to a
    Meilisearch that is still starting); then DependencyUnavailable.
    """

    def retried(fn: Callable[[], T], what: str) -> T:
        return call(fn, f"meilisearch: {what} {uid}", budget_s)

    def wait_for(task_uid: int) -> Any:
        return retried(
            lambda: client.wait_for_task(task_uid, timeout_in_ms=600_000, interval_in_ms=20),
            f"waiting for task {task_uid} of index",
        )

    if not retried(lambda: index_exists(client, uid), "reading index"):
        created = retried(
            lambda: client.create_index(uid, {"primaryKey": table.id_field}).task_uid,
            "creating index",
        )
        task = wait_for(created)
        # another process (a second consumer starting at the same time), or our own request
        # whose answer was lost and that we sent again, may have created it first
        if task.status != "succeeded" and (task.error or {}).get("code") != "index_already_exists":
            raise RuntimeError(f"meilisearch: cannot create index {uid}: {task.error}")
        log.info("created index %s (primary key %s)", uid, table.id_field)
    wanted = table.settings.as_meilisearch()
    if not wanted:
        return
    index = client.index(uid)
    current = retried(index.get_settings, "reading the settings of index")
    changed = {k: v for k, v in wanted.items() if current.get(k) != v}
    if changed:
        task = wait_for(retried(lambda: index.update_settings(changed).task_uid, "updating index"))
        if task.status != "succeeded":
            raise RuntimeError(f"meilisearch: settings of {uid} {task.status}: {task.error}")
        log.info("applied settings to %s: %s", uid, ", ".join(sorted(changed)))


def _index_missing(exc: BaseException | None) -> bool:
    """The error, or the one `retry.call` classified, says the index does not exist."""
    while exc is not None:
        if isinstance(exc, MeilisearchApiError) and exc.code == "index_not_found":
            return True
        exc = exc.__cause__
    return False


def fetch_documents(client: meilisearch.Client, uid: str, body: dict[str, Any]) -> Any:
    """POST /indexes/{uid}/documents/fetch, the raw JSON (no Document wrappers)."""
    return client.http.post(f"indexes/{uid}/documents/fetch", body)


def document_ids(
    client: meilisearch.Client,
    uid: str,
    id_field: str,
    page: int = 1000,
    budget_s: float | None = None,
) -> Iterator[list[str]]:
    """Every document id of an index, `page` at a time (none when the index does not exist).

    With `budget_s`, each page's transient faults are retried for that long (`retry.call`).
    """
    offset = 0
    while True:
        body = {"fields": [id_field], "limit": page, "offset": offset}
        try:
            if budget_s is None:
                response = fetch_documents(client, uid, body)
            else:
                response = call(
                    partial(fetch_documents, client, uid, body), f"reading {uid}", budget_s
                )
        except Exception as exc:
            if _index_missing(exc):
                return
            raise
        ids = [str(d[id_field]) for d in response["results"]]
        if ids:
            yield ids
        if len(ids) < page:
            return
        offset += page
