"""A task that fails for reasons unrelated to its documents is resent; the resend must
not put an older image back over what a later batch of the same partition wrote."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import meilisearch

from cdc_sync.config import load_settings
from cdc_sync.events.model import ChangeEvent
from tests.conftest import unique
from tests.faults.proxy import HttpProxy, Request, Rule
from tests.integration.consumer_support import (
    ITEMS,
    ConsumerProcess,
    end_offsets,
    group_offsets,
    index_documents,
    produce,
    wait_for,
)


class FailFirstAdditionLater:
    """Keeps the first document addition of `index` "processing" in the task answers until a
    later deletion was enqueued, then reports it failed with `internal` (once)."""

    def __init__(self, index: str) -> None:
        self.index = index
        self.addition: int | None = None
        self.deletion: int | None = None
        self.failed = threading.Event()

    def rules(self) -> list[Rule]:
        documents = f"/indexes/{self.index}/documents"
        return [
            Rule(
                "rewrite",
                lambda r: r.method in ("POST", "PUT") and r.path.split("?")[0] == documents,
                rewrite=self._enqueued,
            ),
            Rule(
                "rewrite",
                lambda r: r.path.startswith(f"{documents}/delete"),
                rewrite=self._enqueued,
            ),
            Rule(
                "rewrite",
                lambda r: r.method == "GET" and r.path.startswith("/tasks?"),
                rewrite=self._tasks,
            ),
        ]

    def _enqueued(self, request: Request, answer: Any) -> Any:
        if "delete" in request.path:
            self.deletion = self.deletion or answer["taskUid"]
        else:
            self.addition = self.addition or answer["taskUid"]
        return answer

    def _tasks(self, request: Request, answer: Any) -> Any:
        if self.addition is None or self.failed.is_set():
            return answer
        results = []
        for task in answer["results"]:
            if task["uid"] == self.addition:
                if self.deletion is None:
                    continue  # still "processing" as far as the consumer can tell
                error = {"message": "injected", "code": "internal", "type": "internal", "link": ""}
                task = {**task, "status": "failed", "error": error}
                self.failed.set()
            results.append(task)
        return {**answer, "results": results}


def test_resend_after_internal_failure_never_undoes_a_later_delete(
    make_config: Callable[..., Path],
    sqlite_url: str,
    meili: meilisearch.Client,
    meili_proxy: HttpProxy,
    tmp_path: Path,
) -> None:
    """Invariant: per-key order holds through resends — a part resent after a transient task
    failure (`internal`) leaves out ids a later batch of the same partition already wrote, so
    the index equals the stream's final state (here: the deleted document stays deleted)."""
    index = unique("items")
    config = make_config(
        sqlite_url,
        tables=[{**ITEMS, "index": index}],
        kafka={"partitions": 1},
        meilisearch={"url": f"http://{meili_proxy.address}"},
        consumer={"linger_ms": 20},
    )
    injected = FailFirstAdditionLater(index)
    for rule in injected.rules():
        meili_proxy.add(rule)
    kafka = load_settings(config).kafka
    topic = f"{kafka.topic_prefix}.ITEMS"
    key = {"ITEM_NO": "i1"}
    upsert = ChangeEvent("c", key, after={**key, "NAME": "first image", "QTY": 1}, table="ITEMS")
    delete = ChangeEvent("d", key, before=key, table="ITEMS")
    with ConsumerProcess(config, tmp_path / "consumer.log") as run:
        produce(kafka.bootstrap_servers, kafka.topic_prefix, [upsert])
        wait_for(lambda: injected.addition is not None, 60, "the addition task")
        produce(kafka.bootstrap_servers, kafka.topic_prefix, [delete])
        wait_for(injected.failed.is_set, 60, "the injected failure")
        ends = end_offsets(kafka.bootstrap_servers, [topic])
        wait_for(
            lambda: group_offsets(kafka.bootstrap_servers, kafka.group_id, [topic]) == ends,
            60,
            "the consumer to commit everything",
        )
        run.terminate()
        assert run.wait(30) == 0, run.tail()
    assert "internal" in run.tail(200)  # the failure was seen and the part resent
    assert index_documents(meili, index) == {}
