"""Bootstrap's catch-up against real Kafka and Meilisearch: a window whose events alternate
between full images, partial updates and deletes of the same keys is applied as applying
them in order would, in at most one task per kind per batch — however many alternations."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import meilisearch
import pytest

from cdc_sync.bootstrap.catchup import CatchUp, operations
from cdc_sync.bootstrap.writes import Target, replay
from cdc_sync.config import Settings, load_settings
from cdc_sync.documents.compact import kind_of
from cdc_sync.events.model import UNAVAILABLE, ChangeEvent
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.kafka.reader import end_offsets, read_range
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


def setup(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str, meili: meilisearch.Client
) -> tuple[Settings, Target, dict[str, dict[str, Any]]]:
    config = make_config(sqlite_url, tables=[{"name": "ITEMS", "primary_key": ["ID"]}])
    settings = load_settings(config)
    ensure_topics(settings.kafka, [settings.tables[0].topic_name(settings.kafka.topic_prefix)])
    start = {str(i): {"id": str(i), "title": "chunk", "n": -1} for i in range(0, KEYS, 2)}
    index = meili.index(index_uid)
    meili.wait_for_task(meili.create_index(index_uid, {"primaryKey": "id"}).task_uid)
    meili.wait_for_task(index.add_documents(list(start.values()), "id").task_uid)
    return settings, Target(meili, SinkHttp(settings.meilisearch), index_uid), start


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
    settings, target, start_docs = setup(make_config, sqlite_url, index_uid, meili)
    table = settings.tables[0]
    topic = table.topic_name(settings.kafka.topic_prefix)
    start = end_offsets(settings.kafka, topic)
    produce(settings.kafka.bootstrap_servers, settings.kafka.topic_prefix, events(seed))
    end = end_offsets(settings.kafka, topic)
    failures: list[Any] = []
    ops = list(operations(table, read_range(settings.kafka, topic, start, end), failures))
    alternations = sum(kind_of(a) != kind_of(b) for a, b in itertools.pairwise(ops))
    last_setup_task = meili.get_tasks({"limit": 1}).results[0].uid

    done = CatchUp(settings.kafka, table, target, batch=BATCH).window(start, end)

    assert failures == []
    assert documents(meili, index_uid) == in_order(start_docs, ops)
    assert done.tasks <= 3 * -(-KEYS // BATCH)  # at most one task per kind per batch
    assert writes_since(meili, index_uid, last_setup_task) == done.tasks
    assert alternations > 100 * done.tasks  # cut into runs of one kind: a task per alternation
    assert done.records == sum(end.values()) - sum(start.values())
    assert done.documents <= KEYS


def test_a_window_longer_than_memory_holds_goes_in_pieces_in_order(
    make_config: Callable[..., Path],
    sqlite_url: str,
    index_uid: str,
    meili: meilisearch.Client,
) -> None:
    settings, target, start_docs = setup(make_config, sqlite_url, index_uid, meili)
    table = settings.tables[0]
    topic = table.topic_name(settings.kafka.topic_prefix)
    start = end_offsets(settings.kafka, topic)
    produce(settings.kafka.bootstrap_servers, settings.kafka.topic_prefix, events(3)[:300])
    end = end_offsets(settings.kafka, topic)
    ops = list(operations(table, read_range(settings.kafka, topic, start, end), []))

    documents_written, _, failures = replay(target, ops, BATCH, hold=20)

    assert failures == []
    assert documents(meili, index_uid) == in_order(start_docs, ops)
    assert documents_written > KEYS  # pieces of at most 20 documents: some ids in several
