"""The hot path to Meilisearch (httpx) against the real server: writes, task status, errors."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import meilisearch
import pytest
from pydantic import SecretStr

from cdc_sync.config import MeilisearchSettings
from cdc_sync.errors import TransientError
from cdc_sync.sink.http import ApiRejected, SinkHttp


@pytest.fixture
def http(stack: dict[str, str]) -> Iterator[SinkHttp]:
    settings = MeilisearchSettings(
        url=stack["MEILI_URL"], api_key=SecretStr(stack["MEILI_MASTER_KEY"]), timeout_s=10
    )
    client = SinkHttp(settings)
    yield client
    client.close()


def test_documents_are_added_merged_and_deleted_through_tasks(
    http: SinkHttp, meili: meilisearch.Client, index_uid: str
) -> None:
    """Invariant: each call's task, once finished, shows its effect on the index."""
    added = http.add_documents(
        index_uid, b'[{"id":"a","n":1},{"id":"b","n":2}]', "id", replace=True
    )
    merged = http.add_documents(index_uid, b'[{"id":"a","m":3}]', "id", replace=False)
    deleted = http.delete_documents(index_uid, ["b"])
    for uid in (added, merged, deleted):
        assert http.wait(uid, 30).status == "succeeded"
    assert {t.uid for t in http.finished_tasks([added, merged, deleted])} == {
        added,
        merged,
        deleted,
    }
    docs = meili.index(index_uid).get_documents().results
    assert [dict(d) for d in docs] == [{"id": "a", "n": 1, "m": 3}]
    assert http.wait(http.delete_all_documents(index_uid), 30).status == "succeeded"
    assert meili.index(index_uid).get_documents().results == []


def test_a_failed_task_reports_its_error_code(http: SinkHttp, index_uid: str) -> None:
    """Invariant: a document Meilisearch refuses fails its task with the reason, not the call."""
    task = http.wait(http.add_documents(index_uid, b'[{"id":"bad id!"}]', "id", replace=True), 30)
    assert task.status == "failed"
    assert task.error is not None and task.error["code"] == "invalid_document_id"


def test_refusals_are_terminal_and_outages_transient(stack: dict[str, str]) -> None:
    """Invariant: 4xx answers raise ApiRejected with the code; no answer raises TransientError."""
    wrong_key = SinkHttp(MeilisearchSettings(url=stack["MEILI_URL"], api_key=SecretStr("nope")))
    with pytest.raises(ApiRejected) as refused:
        wrong_key.delete_all_documents("anything")
    assert refused.value.status == 403 and refused.value.code == "invalid_api_key"
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    nobody = SinkHttp(MeilisearchSettings(url=f"http://127.0.0.1:{port}", timeout_s=2))
    with pytest.raises(TransientError):
        nobody.finished_tasks([1])
