"""The relay and the consumer agree on a table's topic, named by Debezium's rules: a table
whose name holds a character Kafka refuses in a topic name (``$``, ``#``) goes to the
sanitised topic (AbstractTopicNamingStrategy.sanitizedTopicName: each becomes ``_``), where
the relay could create no topic before."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import meilisearch
import pytest
from sqlalchemy import create_engine, text

from cdc_sync.config import load_settings
from cdc_sync.kafka.admin import admin_client
from tests.conftest import unique
from tests.integration.consumer_support import index_documents
from tests.integration.relay_helpers import cli, read_topic

pytestmark = pytest.mark.stack


def test_a_table_named_with_a_dollar_sign_flows_through_the_sanitised_topic(
    make_config: Callable[..., Path], sqlite_url: str, meili: meilisearch.Client
) -> None:
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text('CREATE TABLE "T$AUDIT" (ID INTEGER PRIMARY KEY, ACTION TEXT)'))
    engine.dispose()
    index = unique("audit")
    config = make_config(
        sqlite_url, tables=[{"name": "T$AUDIT", "primary_key": ["ID"], "index": index}]
    )
    settings = load_settings(config)
    topic = f"{settings.kafka.topic_prefix}.T_AUDIT"
    assert settings.topic_of(settings.tables[0]) == topic
    try:
        assert cli(config, "source", "install").returncode == 0
        engine = create_engine(sqlite_url)
        with engine.begin() as conn:
            conn.execute(text("""INSERT INTO "T$AUDIT" VALUES (1, 'login'), (2, 'logout')"""))
            conn.execute(text("""UPDATE "T$AUDIT" SET ACTION = 'login again' WHERE ID = 1"""))
        engine.dispose()
        for command in (["relay", "--once"], ["consume", "--until-caught-up"]):
            done = cli(config, *command)
            assert done.returncode == 0, done.stdout + done.stderr
        assert {r.key["ID"] for r in read_topic(settings.kafka.bootstrap_servers, topic)} == {1, 2}
        documents = index_documents(meili, index)
        assert {k: d["action"] for k, d in documents.items()} == {"1": "login again", "2": "logout"}
    finally:
        with contextlib.suppress(Exception):
            meili.delete_index(index)
        for future in admin_client(settings.kafka).delete_topics([topic]).values():
            with contextlib.suppress(Exception):
                future.result(30)
