"""The topic a table's events go to, by Debezium's rules, for the relay and the consumer alike.

Where the expectations come from (Debezium at commit aad5519):
- Oracle and PostgreSQL connectors name data topics ``<topic.prefix>.<schema>.<table>``:
  ``SchemaTopicNamingStrategy`` is the default ``topic.naming.strategy``
  (debezium-connector-common/.../config/CommonConnectorConfig.java:1023-1031) and joins the
  prefix and ``schemaParts()`` with ``.`` (SchemaTopicNamingStrategy.java:39-42,
  AbstractTopicNamingStrategy.java:207-220); oracle.adoc "Topic names", postgresql.adoc "Topic
  names".
- Characters other than ``[A-Za-z0-9._-]`` are replaced by ``_``; a name longer than 249 is cut
  to 249; ``.`` and ``..`` alone become ``_`` and ``__`` (AbstractTopicNamingStrategy.java:155-205,
  ``TopicNamingStrategy.MAX_NAME_LENGTH`` = 249 in debezium-api/.../TopicNamingStrategy.java:22);
  BinlogTopicNameSanitizationIT.java:62-98 expects ``dbz_878_some|test@data`` on the topic
  ``…dbz_878_some_test_data``.
- Oracle stores unquoted names in upper case, so its topics are in upper case
  (``fulfillment.INVENTORY.CUSTOMERS``), and quoted names keep their case (oracle.adoc, "Topic
  names", the NOTE). Our configured names are unquoted unless the DDL must quote them (mixed
  case, reserved words: SQLAlchemy's Oracle identifier preparer), the rule `source print` uses.
"""

from __future__ import annotations

from typing import Any

import pytest

from cdc_sync.config import Settings
from cdc_sync.names import sanitised_topic

ORACLE = "oracle+oracledb://app:secret@db:1521/?service_name=FREEPDB1"
POSTGRESQL = "postgresql://app:secret@db/app"
SQLITE = "sqlite:///source.db"


def _topic(url: str, prefix: str = "server1", **table: Any) -> str:
    settings = Settings.model_validate(
        {
            "source": {"url": url},
            "kafka": {"bootstrap_servers": "kafka:9092", "topic_prefix": prefix},
            "meilisearch": {"url": "http://meili:7700"},
            "tables": [{"primary_key": ["ID"], **table}],
        }
    )
    return settings.topic_of(settings.tables[0])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("server1.APP.ORDER#ITEMS", "server1.APP.ORDER_ITEMS"),
        ("server1.APP.T$AUDIT", "server1.APP.T_AUDIT"),
        ("dbz_878_some|test@data", "dbz_878_some_test_data"),
        ("cdc.public.items-2024_v1", "cdc.public.items-2024_v1"),
        (".", "_"),
        ("..", "__"),
        ("x" * 300, "x" * 249),
    ],
)
def test_characters_invalid_in_a_topic_name_become_underscores(name: str, expected: str) -> None:
    assert sanitised_topic(name) == expected


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"name": "customers", "schema": "debezium"}, "server1.DEBEZIUM.CUSTOMERS"),
        ({"name": "CUSTOMERS", "schema": "DEBEZIUM"}, "server1.DEBEZIUM.CUSTOMERS"),
        ({"name": "ORDER#ITEMS", "schema": "APP"}, "server1.APP.ORDER_ITEMS"),
        ({"name": "t$audit", "schema": "app"}, "server1.APP.T_AUDIT"),
        ({"name": "Customers", "schema": "APP"}, "server1.APP.Customers"),  # quoted by the DDL
        ({"name": "crasivttst"}, "server1.CRASIVTTST"),
    ],
)
def test_oracle_topics_spell_names_as_oracle_stores_them(
    table: dict[str, Any], expected: str
) -> None:
    assert _topic(ORACLE, **table) == expected
    assert _topic("oracle://app:secret@db:1521/?service_name=FREEPDB1", **table) == expected


@pytest.mark.parametrize("url", [POSTGRESQL, SQLITE])
@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"name": "items", "schema": "public"}, "cdc.public.items"),
        ({"name": "ITEMS", "schema": "public"}, "cdc.public.ITEMS"),  # as before: not renamed
        ({"name": "CRASIVTTST"}, "cdc.CRASIVTTST"),
        ({"name": "T$AUDIT"}, "cdc.T_AUDIT"),  # was an invalid topic name
        ({"name": "order#items", "schema": "app"}, "cdc.app.order_items"),
    ],
)
def test_postgresql_and_sqlite_topics_keep_the_names_as_configured(
    url: str, table: dict[str, Any], expected: str
) -> None:
    assert _topic(url, prefix="cdc", **table) == expected


@pytest.mark.parametrize("url", [ORACLE, POSTGRESQL, SQLITE])
def test_a_configured_topic_is_taken_as_it_is(url: str) -> None:
    assert _topic(url, name="customers", schema="app", topic="my.Topic-1") == "my.Topic-1"
