"""Bootstrap's catch-up against real Kafka and Meilisearch: a window whose events alternate
between full images, partial updates and deletes of the same keys is applied as applying
them in order would, in at most one task per kind per batch — however many alternations."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import meilisearch
import pytest

from cdc_sync.bootstrap.catchup import CatchUp, operations
from cdc_sync.bootstrap.writes import Target, replay
from cdc_sync.config import Settings, load_settings
from cdc_sync.documents.compact import kind_of
from cdc_sync.documents.mapping import DocumentOp
from cdc_sync.events.model import UNAVAILABLE, ChangeEvent
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.kafka.reader import Offsets, end_offsets, read_range
from cdc_sync.sink.http import SinkHttp
from tests.integration.consumer_support import produce
from tests.unit.test_documents_compact import in_order

pytestmark = pytest.mark.stack
KEYS = 50
EVENTS = 3000
BATCH = 20


def events(seed: int) -> list[ChangeEvent]:
    """Full images, partial updates (an unavailable column) and deletes, in random order."""
    draw = random.Random(seed)
    out = []
    for i in range(EVENTS):
        key = {"ID": draw.randrange(KEYS)}
        roll = draw.random()
        if roll < 0.3:
            out.append(ChangeEvent("d", key, before=key, table="ITEMS", change_id=i))
        else:
            title = UNAVAILABLE if roll < 0.6 else f"title {i}"
            row = {**key, "TITLE": title, "N": i}
            out.append(ChangeEvent("u", key, after=row, table="ITEMS", change_id=i))
    return out


@dataclass
class Window:
    """A live index holding every other key, then `changes` published to the table's topic."""

    settings: Settings
    target: Target
    start_docs: dict[str, dict[str, Any]]
    start: Offsets
    end: Offsets
    ops: list[DocumentOp]
    """The window's operations, in the order read: what applying them in order means."""
    failures: list[Any]


def window(
    make_config: Callable[..., Path],
    sqlite_url: str,
    index_uid: str,
    meili: meilisearch.Client,
    changes: list[ChangeEvent],
) -> Window:
    config = make_config(sqlite_url, tables=[{"name": "ITEMS", "primary_key": ["ID"]}])
    settings = load_settings(config)
    table = settings.tables[0]
    topic = settings.topic_of(table)
    ensure_topics(settings.kafka, [topic])
    start_docs = {str(i): {"id": str(i), "title": "chunk", "n": -1} for i in range(0, KEYS, 2)}
    meili.wait_for_task(meili.create_index(index_uid, {"primaryKey": "id"}).task_uid)
    meili.wait_for_task(meili.index(index_uid).add_documents(list(start_docs.values())).task_uid)
    start = end_offsets(settings.kafka, topic)
    produce(settings.kafka.bootstrap_servers, settings.kafka.topic_prefix, changes)
    end = end_offsets(settings.kafka, topic)
    failures: list[Any] = []
    ops = list(operations(table, read_range(settings.kafka, topic, start, end), failures))
    target = Target(meili, SinkHttp(settings.meilisearch), index_uid)
    return Window(settings, target, start_docs, start, end, ops, failures)


def documents(meili: meilisearch.Client, uid: str) -> dict[str, dict[str, Any]]:
    page = meili.http.post(f"indexes/{uid}/documents/fetch", {"limit": 10_000})
    return {d["id"]: d for d in page["results"]}


def writes_since(meili: meilisearch.Client, uid: str, after_uid: int) -> int:
    types = "documentAdditionOrUpdate,documentDeletion"
    found = meili.http.get(f"tasks?indexUids={uid}&types={types}&limit=1000")["results"]
    return sum(1 for task in found if task["uid"] > after_uid)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_window_of_alternating_kinds_takes_one_task_per_kind_per_batch(
    seed: int,
    make_config: Callable[..., Path],
    sqlite_url: str,
    index_uid: str,
    meili: meilisearch.Client,
) -> None:
    w = window(make_config, sqlite_url, index_uid, meili, events(seed))
    alternations = sum(kind_of(a) != kind_of(b) for a, b in itertools.pairwise(w.ops))
    last_setup_task = meili.get_tasks({"limit": 1}).results[0].uid

    table = w.settings.tables[0]
    catch_up = CatchUp(w.settings.kafka, table, w.settings.topic_of(table), w.target, batch=BATCH)
    done = catch_up.window(w.start, w.end)

    assert w.failures == [] and catch_up.failures == []
    assert documents(meili, index_uid) == in_order(w.start_docs, w.ops)
    assert done.tasks <= 3 * -(-KEYS // BATCH)  # at most one task per kind per batch
    assert writes_since(meili, index_uid, last_setup_task) == done.tasks
    assert alternations > 100 * done.tasks  # cut into runs of one kind: a task per alternation
    assert done.records == sum(w.end.values()) - sum(w.start.values())
    assert done.documents <= KEYS


def test_a_window_longer_than_memory_holds_goes_in_pieces_in_order(
    make_config: Callable[..., Path],
    sqlite_url: str,
    index_uid: str,
    meili: meilisearch.Client,
) -> None:
    w = window(make_config, sqlite_url, index_uid, meili, events(3)[:300])

    documents_written, _, failures = replay(w.target, w.ops, BATCH, hold=20)

    assert w.failures == [] and failures == []
    assert documents(meili, index_uid) == in_order(w.start_docs, w.ops)
    assert documents_written > KEYS  # pieces of at most 20 documents: some ids in several
