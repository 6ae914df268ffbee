"""Creating indexes and applying their settings, idempotently (SPEC §5)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError

from cdc_sync.config import TableSettings

log = logging.getLogger(__name__)


def wait(client: meilisearch.Client, task_uid: int, timeout_s: float = 120.0) -> dict[str, Any]:
    """Wait for a task; raise if it failed."""
    task = client.wait_for_task(task_uid, timeout_in_ms=int(timeout_s * 1000), interval_in_ms=20)
    if task.status != "succeeded":
        raise RuntimeError(f"meilisearch task {task_uid} {task.status}: {task.error}")
    return dict(task.__dict__)


def index_exists(client: meilisearch.Client, uid: str) -> bool:
    try:
        client.get_index(uid)
        return True
    except MeilisearchApiError as exc:
        if getattr(exc, "code", None) == "index_not_found":
            return False
        raise


def ensure_index(client: meilisearch.Client, uid: str, table: TableSettings) -> None:
    """Create the index with the table's primary key if missing; apply settings if they differ."""
    if not index_exists(client, uid):
        task = client.wait_for_task(
            client.create_index(uid, {"primaryKey": table.id_field}).task_uid,
            timeout_in_ms=120_000,
            interval_in_ms=20,
        )
        # another process (a second consumer starting at the same time) may have won the race
        if task.status != "succeeded" and (task.error or {}).get("code") != "index_already_exists":
            raise RuntimeError(f"meilisearch: cannot create index {uid}: {task.error}")
        log.info("created index %s (primary key %s)", uid, table.id_field)
    wanted = table.settings.as_meilisearch()
    if not wanted:
        return
    index = client.index(uid)
    current = index.get_settings()
    changed = {k: v for k, v in wanted.items() if current.get(k) != v}
    if changed:
        wait(client, index.update_settings(changed).task_uid, timeout_s=600)
        log.info("applied settings to %s: %s", uid, ", ".join(sorted(changed)))


def document_ids(
    client: meilisearch.Client, uid: str, id_field: str, page: int = 1000
) -> Iterator[list[str]]:
    """Every document id of an index, `page` at a time (none when the index does not exist)."""
    offset = 0
    while True:
        body = {"fields": [id_field], "limit": page, "offset": offset}
        try:
            response = client.http.post(f"indexes/{uid}/documents/fetch", body)
        except MeilisearchApiError as exc:
            if getattr(exc, "code", None) == "index_not_found":
                return
            raise
        ids = [str(d[id_field]) for d in response["results"]]
        if ids:
            yield ids
        if len(ids) < page:
            return
        offset += page
