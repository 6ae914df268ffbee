"""The Meilisearch client as the services use it, on the real server."""

from __future__ import annotations

import time

import meilisearch
import pytest

from cdc_sync.config import MeilisearchSettings
from cdc_sync.sink.meili import meili_client
from tests.conftest import unique

pytestmark = pytest.mark.stack


def test_a_request_after_a_delete_is_answered_at_once(stack: dict[str, str]) -> None:
    """A bodiless DELETE must leave the kept-alive connection clean: the library sends `null`
    as its body, which Meilisearch may leave unread, and the next request on that connection
    then waited for the client timeout (30 s by default)."""
    client = meili_client(
        MeilisearchSettings(url=stack["MEILI_URL"], api_key=stack["MEILI_MASTER_KEY"], timeout_s=5)
    )
    for _ in range(10):
        uid = unique("deleted")
        client.wait_for_task(client.index(uid).add_documents([{"id": 1}], "id").task_uid)
        deleting = client.index(uid).delete_all_documents().task_uid
        started = time.monotonic()
        client.get_task(deleting)
        deleted = client.delete_index(uid).task_uid
        client.get_task(deleted)
        assert time.monotonic() - started < 4
        client.wait_for_task(deleted)
    with pytest.raises(meilisearch.errors.MeilisearchApiError):
        client.get_index(uid)
