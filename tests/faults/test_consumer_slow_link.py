"""The consumer behind the slow link of the bootstrap fault test (0-200 ms added to every
request, 503 to one document write in ten): a backlog whose events alternate between full
images, partial updates and deletes of the same keys is written as at most one task per
kind per batch — never one per alternation — and ends as applying the events in order."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import meilisearch
import pytest

from cdc_sync.bootstrap.catchup import operations
from cdc_sync.config import load_settings
from cdc_sync.documents.compact import kind_of
from cdc_sync.kafka.reader import end_offsets, read_range
from tests.faults.proxy import HttpProxy, document_write, slow_link
from tests.integration.cli_support import run_cli
from tests.integration.consumer_support import produce
from tests.integration.test_bootstrap_catchup import documents, events
from tests.unit.test_documents_compact import in_order

PARTITIONS = 3
BATCH = 500


@pytest.mark.parametrize("seed", [1, 2], ids=lambda seed: f"seed={seed}")
def test_a_backlog_of_alternating_kinds_takes_one_task_per_kind_per_batch(
    seed: int,
    make_config: Callable[..., Path],
    sqlite_url: str,
    index_uid: str,
    meili: meilisearch.Client,
    meili_proxy: HttpProxy,
) -> None:
    config = make_config(
        sqlite_url,
        tables=[{"name": "ITEMS", "primary_key": ["ID"], "index": index_uid}],
        meilisearch={"url": f"http://{meili_proxy.address}"},
        kafka={"partitions": PARTITIONS},
        consumer={"batch_size": BATCH},
    )
    settings = load_settings(config)
    table = settings.tables[0]
    topic = settings.topic_of(table)
    stream = produce(settings.kafka.bootstrap_servers, settings.kafka.topic_prefix, events(seed))
    end = end_offsets(settings.kafka, topic)
    ops = list(operations(table, read_range(settings.kafka, topic, {}, end), []))
    slow_link(meili_proxy, seed)

    done = run_cli(config, "consume", "--until-caught-up", timeout_s=300)

    assert done.returncode == 0, done.stderr[-3000:]
    assert documents(meili, index_uid) == in_order({}, ops)
    accepted = [e for e in meili_proxy.exchanges if document_write(e.request) and e.status == 202]
    refused = [e for e in meili_proxy.exchanges if e.status == 503]
    batches = len(stream.records) // BATCH + 2 * PARTITIONS  # full ones, and a first and last each
    alternations = sum(kind_of(a) != kind_of(b) for a, b in itertools.pairwise(ops))
    assert refused, "the link refused no write"
    assert len(accepted) <= 3 * batches, (len(accepted), batches)
    assert alternations > 10 * len(accepted), (alternations, len(accepted))
    print(
        f"\n{len(stream.records)} records, {alternations} kind alternations: "
        f"{len(accepted)} document writes accepted, {len(refused)} answered 503"
    )
